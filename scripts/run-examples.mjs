#!/usr/bin/env node
// Runs every examples/*.ts exactly as the README tells users to (`npx ts-node examples/<file>.ts`)
// and fails if any of them exits non-zero or runs longer than its budget.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsNode = join(root, 'node_modules', '.bin', 'ts-node');
const only = process.argv.slice(2);
const files = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let passed = 0;
let failed = 0;
for (const file of files) {
  const started = Date.now();
  const result = spawnSync(tsNode, [join('examples', file)], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0' } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    passed += 1;
    console.log(`ok   examples/${file} (${seconds}s, ${result.stdout.split('\n').length - 1} lines of output)`);
  } else {
    failed += 1;
    console.log(`FAIL examples/${file} (${seconds}s, exit ${result.status ?? result.signal})`);
    console.log(result.stdout.split('\n').slice(-20).join('\n'));
    console.log(result.stderr.split('\n').slice(-30).join('\n'));
  }
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);
