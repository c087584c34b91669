#!/usr/bin/env node
// Packaging check: packs the library as npm would publish it, installs the tarball into a scratch
// project outside this repository (so nothing resolves through the repo's node_modules), and
// checks that every subpath export imports under ESM and CommonJS, ships type declarations that
// TypeScript resolves in both module modes, and that importing the root never loads `tablestore`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'tablestore-timeline-pack-'));
let failures = 0;
let passes = 0;

function check(name, fn) {
  try {
    fn();
    passes += 1;
    console.log(`  ok   ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`  FAIL ${name}\n       ${String(error.stderr ?? error.message).trim().split('\n').join('\n       ')}`);
  }
}

function run(cmd, args, options = {}) {
  return execFileSync(cmd, args, { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

// Links a package from the repo's node_modules and, recursively, its own dependencies.
function link(name, seen = new Set()) {
  if (seen.has(name)) return;
  seen.add(name);
  const source = join(root, 'node_modules', name);
  const target = join(scratch, 'node_modules', name);
  if (!existsSync(target)) {
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(source, target, 'dir');
  }
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) link(dep, seen);
}

try {
  console.log('packaging check');
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
  const files = execFileSync('tar', ['-tzf', join(scratch, tarball)], { encoding: 'utf8' }).split('\n');
  mkdirSync(join(scratch, 'node_modules', pkg.name), { recursive: true });
  execFileSync('tar', ['-xzf', join(scratch, tarball), '-C', join(scratch, 'node_modules', pkg.name), '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies ?? {})) link(dep);
  link('@types/node');
  link('typescript');
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));

  const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
  for (const subpath of subpaths) {
    const conditions = pkg.exports[subpath];
    for (const mode of ['import', 'require']) {
      for (const key of ['types', 'default']) {
        const file = conditions[mode][key].replace(/^\.\//, 'package/');
        check(`tarball has ${file}`, () => {
          if (!files.includes(file)) throw new Error(`${file} is missing from ${tarball}`);
        });
      }
    }
  }

  check('public typings hold no @internal member', () => {
    const typings = files.filter((file) => /\.d\.(m|c)?ts$/.test(file));
    if (typings.length === 0) throw new Error('no typings in the tarball');
    const leaks = [];
    for (const file of typings) {
      const text = readFileSync(join(scratch, 'node_modules', pkg.name, file.replace(/^package\//, '')), 'utf8');
      for (const marker of ['@internal', 'validateMessage', 'syncInternals', 'cursorKeyring', 'writeRows']) if (text.includes(marker)) leaks.push(`${file}: ${marker}`);
    }
    if (leaks.length > 0) throw new Error(`internal members in the typings: ${leaks.join('; ')}`);
  });

  const specifier = (subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
  // Without the SDK installed: every entry but ./tablestore imports; ./tablestore either imports
  // lazily or explains how to install the SDK.
  for (const subpath of subpaths) {
    const spec = specifier(subpath);
    const expectSdkError = subpath === './tablestore';
    const esm = `import('${spec}').then((m) => { if (Object.keys(m).length === 0) throw new Error('no exports'); console.log(Object.keys(m).length); }, (e) => { if (${expectSdkError} && /npm install tablestore/.test(e.message)) console.log('sdk-missing'); else throw e; })`;
    const cjs = `try { const m = require('${spec}'); if (Object.keys(m).length === 0) throw new Error('no exports'); } catch (e) { if (!(${expectSdkError} && /npm install tablestore/.test(e.message))) throw e; }`;
    check(`ESM import ${spec} (SDK absent)`, () => run(process.execPath, ['--input-type=module', '-e', esm]));
    check(`CJS require ${spec} (SDK absent)`, () => run(process.execPath, ['-e', cjs]));
  }
  check('root entry exports the core, the memory backend and the IM helpers (ESM and CJS agree)', () => {
    const names = ['TimelineStore', 'MemoryBackend', 'TimelineError', 'StoreTimeline', 'SyncTimeline', 'fanOut', 'Messenger'];
    const esm = run(process.execPath, ['--input-type=module', '-e', `import * as m from '${pkg.name}'; console.log(JSON.stringify(Object.keys(m).sort()))`]);
    const cjs = run(process.execPath, ['-e', `console.log(JSON.stringify(Object.keys(require('${pkg.name}')).filter((k) => k !== '__esModule').sort()))`]);
    if (esm !== cjs) throw new Error(`ESM exports ${esm} differ from CJS exports ${cjs}`);
    const missing = names.filter((n) => !JSON.parse(esm).includes(n));
    if (missing.length > 0) throw new Error(`root entry lacks ${missing.join(', ')}`);
  });
  check('a memory store works from the CommonJS build (p-limit is ESM-only)', () =>
    run(process.execPath, [
      '-e',
      `const { TimelineStore, MemoryBackend } = require('${pkg.name}');
       const store = new TimelineStore({ backend: new MemoryBackend(), table: 't' });
       store.timeline('a').appendMany([1, 2, 3]).then(() => store.appendBatch([{ timelineId: 'b', message: 1 }]))
         .then((r) => { if (!r[0].ok) throw new Error('appendBatch failed'); });`,
    ]),
  );

  check('without the SDK, using TableStoreBackend fails with MISSING_DEPENDENCY naming the package', () =>
    run(process.execPath, [
      '-e',
      `const { TableStoreBackend } = require('${pkg.name}/tablestore');
       const b = new TableStoreBackend({ endpoint: 'http://127.0.0.1:9', instanceName: 'i', accessKeyId: 'k', accessKeySecret: 's' });
       b.ensureTable({ table: 't', ttlSeconds: -1 }).then(() => { throw new Error('expected a MISSING_DEPENDENCY error'); }, (e) => {
         if (e.code !== 'MISSING_DEPENDENCY' || !/npm install tablestore/.test(e.message)) throw e;
       });`,
    ]),
  );
  check('the emulator CLI from the tarball serves without the SDK installed', () => {
    const cli = join(scratch, 'node_modules', pkg.name, pkg.bin['tablestore-timeline-emulator']);
    run(process.execPath, [
      '-e',
      `const { spawn } = require('node:child_process');
       const child = spawn(process.execPath, [${JSON.stringify(cli)}, '--port', '0']);
       let out = '';
       let done = false;
       const timer = setTimeout(() => { child.kill(); console.error('no endpoint printed: ' + out); process.exitCode = 1; }, 10000);
       child.stdout.on('data', async (chunk) => {
         out += chunk;
         const match = /http:\\/\\/127\\.0\\.0\\.1:\\d+/.exec(out);
         if (!match || done) return;
         done = true;
         clearTimeout(timer);
         const res = await fetch(match[0] + '/__emulator/health');
         if (!res.ok) { console.error('health ' + res.status); process.exitCode = 1; }
         child.kill('SIGTERM');
       });`,
    ]);
  });

  // With the SDK installed: importing the root still must not load it.
  link('tablestore');
  check('importing the root entry does not load tablestore (CJS)', () =>
    run(process.execPath, [
      '-e',
      `require('${pkg.name}'); require('${pkg.name}/testing'); require('${pkg.name}/emulator');
       const loaded = Object.keys(require.cache).filter((p) => /node_modules[\\\\/]tablestore[\\\\/]/.test(p));
       if (loaded.length) throw new Error('tablestore was loaded: ' + loaded[0]);`,
    ]),
  );
  check('importing the root entry does not load tablestore (ESM)', () =>
    run(process.execPath, [
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       await import('${pkg.name}');
       const require = createRequire(import.meta.url);
       const loaded = Object.keys(require.cache).filter((p) => /node_modules[\\\\/]tablestore[\\\\/]/.test(p));
       if (loaded.length) throw new Error('tablestore was loaded: ' + loaded[0]);`,
    ]),
  );
  check('tablestore entry exports TableStoreBackend when the SDK is installed (ESM and CJS)', () => {
    run(process.execPath, ['--input-type=module', '-e', `const m = await import('${pkg.name}/tablestore'); if (typeof m.TableStoreBackend !== 'function') throw new Error('missing TableStoreBackend');`]);
    run(process.execPath, ['-e', `if (typeof require('${pkg.name}/tablestore').TableStoreBackend !== 'function') throw new Error('missing TableStoreBackend');`]);
  });

  // Types: every subpath resolves with declarations under both module modes.
  const imports = subpaths.map((subpath, i) => `import * as m${i} from '${specifier(subpath)}';\nexport const t${i}: object = m${i};`).join('\n');
  writeFileSync(join(scratch, 'esm.mts'), `${imports}\nimport { TimelineStore, MemoryBackend } from '${pkg.name}';\nconst s = new TimelineStore<{ text: string }>({ backend: new MemoryBackend(), table: 't' });\nexport const p: Promise<bigint> = s.timeline('a').append({ text: 'x' }).then((e) => e.seq);\n`);
  writeFileSync(join(scratch, 'cjs.cts'), `${imports}\n`);
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, types: ['node'] }, files: ['esm.mts', 'cjs.cts'] }),
  );
  check('types resolve for every subpath under ESM and CommonJS (tsc, node16 resolution)', () =>
    run(process.execPath, [join(scratch, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(scratch, 'tsconfig.json')]),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
