/**
 * Sample programs in the shape of the official Node SDK's published samples (written for this
 * repository, one per supported API: callbacks, `console.log('success:', data)`), each run
 * unchanged in its own node process against the emulator CLI running in another child process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SAMPLES = path.join(process.cwd(), 'test/emulator/samples');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-emu-samples-'));
const bundle = path.join(dir, 'cli.cjs');
let cli: ChildProcess | undefined;
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  const esbuild = requireFromRoot('esbuild') as { build(o: Record<string, unknown>): Promise<unknown> };
  await esbuild.build({ entryPoints: [path.join(process.cwd(), 'src/emulator/cli.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle, logLevel: 'silent' });
  const child = spawn(process.execPath, [bundle, '--port', '0', '--instance', 'samples', '--access-key-id', 'sample-id', '--access-key-secret', 'sample-secret'], { stdio: ['ignore', 'pipe', 'pipe'] });
  cli = child;
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the CLI exited with ${code}: ${out}`)));
  });
  env = { ...process.env, TABLESTORE_ENDPOINT: endpoint, TABLESTORE_INSTANCE: 'samples', TABLESTORE_ACCESS_KEY_ID: 'sample-id', TABLESTORE_ACCESS_KEY_SECRET: 'sample-secret' };
});

afterAll(async () => {
  if (cli && cli.exitCode === null) {
    const exited = new Promise<void>((resolve) => cli!.once('exit', () => resolve()));
    cli.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function runSample(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(SAMPLES, file)], { env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// In order: later samples read what earlier ones wrote, as the SDK's samples assume.
const RUNS: readonly [file: string, successLines: number, mustContain?: string][] = [
  ['createTable.cjs', 1],
  ['listTable.cjs', 1, 'sampleTable'],
  ['describeTable.cjs', 1, '"enableStream":true'],
  ['updateTable.cjs', 1],
  ['putRow.cjs', 1],
  ['getRow.cjs', 2, 'row matched the filter'],
  ['updateRow.cjs', 1],
  ['conditionUpdateRow.cjs', 2, 'condition check failed as expected'],
  ['increment.cjs', 1, 'price is 10'],
  ['deleteRow.cjs', 1],
  ['batchWriteRow.cjs', 1],
  ['batchGetRow.cjs', 1, 'two rows'],
  ['getRange.cjs', 1, '3 rows'],
  ['timeRange.cjs', 1],
  ['autoIncrement.cjs', 1, 'generated pk2'],
  ['deleteTable.cjs', 1],
];

describe('SDK-shaped samples against the CLI', () => {
  it('has a run for every sample file', () => {
    const files = fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.cjs') && f !== 'client.cjs');
    expect(files.sort()).toEqual(RUNS.map(([f]) => f).sort());
  });

  for (const [file, successLines, mustContain] of RUNS) {
    it(`${file} prints its success line`, async () => {
      const out = await runSample(file);
      expect(out).not.toMatch(/^error:/m);
      expect(out.match(/^success:/gm) ?? []).toHaveLength(successLines);
      if (mustContain !== undefined) expect(out).toContain(mustContain);
    });
  }
});
