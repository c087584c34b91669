import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/emulator/cli-args.js';
import { tableParams, TableStore } from './sdk.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-emu-cli-'));
const bundle = path.join(dir, 'cli.cjs');

beforeAll(async () => {
  // Bundle the CLI the way the build does, so that the test runs the real entry point.
  const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
  const esbuild = requireFromRoot('esbuild') as { build(o: Record<string, unknown>): Promise<unknown> };
  await esbuild.build({
    entryPoints: [path.join(process.cwd(), 'src/emulator/cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    logLevel: 'silent',
  });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('parseArgs', () => {
  it('parses every flag', () => {
    expect(
      parseArgs([
        '--port',
        '9000',
        '--host=0.0.0.0',
        '--instance',
        'i',
        '--access-key-id',
        'id',
        '--access-key-secret',
        's',
        '--latency-ms',
        '5',
        '--data-dir',
        '/tmp/x',
        '--seed',
        '3',
        '--no-fsync',
        '--no-control',
      ]),
    ).toEqual({
      port: 9000,
      host: '0.0.0.0',
      instanceName: 'i',
      accessKeyId: 'id',
      accessKeySecret: 's',
      latencyMs: 5,
      dataDir: '/tmp/x',
      seed: 3,
      fsync: false,
      controlEndpoint: false,
    });
    expect(parseArgs([])).toEqual({ port: 8800 });
    expect(parseArgs(['-h'])).toBe('help');
  });

  it.each([[['--bogus']], [['--port']], [['--port', 'abc']], [['--port', '70000']], [['--latency-ms', '-1']], [['--data-dir', '--port']]])('rejects %j', (argv) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
  });
});

describe('tablestore-timeline-emulator', () => {
  it('prints usage and exits non-zero on a bad flag', () => {
    const r = spawnSync(process.execPath, [bundle, '--nope'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--nope'");
    expect(r.stderr).toContain('Usage: tablestore-timeline-emulator');
  });

  it('serves the SDK, prints endpoint and credentials, and exits cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bundle, '--port', '0', '--instance', 'cli', '--access-key-id', 'k', '--access-key-secret', 's'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m && out.includes('accessKeySecret')) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    expect(out).toContain('instancename:    cli');
    expect(out).toContain('accessKeyId:     k');
    const client = new TableStore.Client({ endpoint, instancename: 'cli', accessKeyId: 'k', secretAccessKey: 's', maxRetries: 0 });
    await client.createTable(tableParams('t', [{ name: 'k', type: 'STRING' }]));
    expect((await client.listTable({})).tableNames).toEqual(['t']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
