/**
 * Several instances on one emulator (each with its own tables), and request statistics that stay
 * small whatever paths clients send.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/emulator/cli-args.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { failure, tableParams, TableStore } from './sdk.js';

const started: Emulator[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const e of started) await e.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startEmulator>[0]): Promise<Emulator> {
  const emu = await startEmulator(options);
  started.push(emu);
  return emu;
}

const clientOf = (emu: Emulator, instancename: string) => new TableStore.Client({ ...emu.clientConfig(), instancename, maxRetries: 0 });

describe('several instances', () => {
  it('gives each configured instance its own tables and refuses other names', async () => {
    const emu = await start({ instanceName: ['alpha', 'beta'] });
    expect(emu.instanceName).toBe('alpha');
    expect(emu.instanceNames).toEqual(['alpha', 'beta']);
    expect(emu.clientConfig().instancename).toBe('alpha');
    const a = clientOf(emu, 'alpha');
    const b = clientOf(emu, 'beta');
    await a.createTable(tableParams('t', [{ name: 'k', type: 'STRING' }]));
    await b.createTable(tableParams('t', [{ name: 'k', type: 'STRING' }]));
    await b.createTable(tableParams('only_beta', [{ name: 'k', type: 'STRING' }]));
    await a.putRow({ tableName: 't', condition: new TableStore.Condition(0, null), primaryKey: [{ k: 'x' }], attributeColumns: [{ v: 'from alpha' }] });
    expect((await a.listTable({})).tableNames).toEqual(['t']);
    expect((await b.listTable({})).tableNames).toEqual(['only_beta', 't']);
    expect((await b.getRow({ tableName: 't', primaryKey: [{ k: 'x' }] })).row).toEqual({});
    expect(emu.stats().rows).toEqual({ t: 1, 'beta/t': 0, 'beta/only_beta': 0 });
    const err = await failure(clientOf(emu, 'gamma').listTable({}));
    expect(err.code).toBe(403);
    expect(err.message).toContain("'alpha', 'beta'");
  });

  it("accepts any instance name with '*', each with its own tables", async () => {
    const emu = await start({ instanceName: '*' });
    expect(emu.instanceName).toBe('emulator');
    const one = clientOf(emu, 'tenant_one');
    const two = clientOf(emu, 'tenant_two');
    await one.createTable(tableParams('shared_name', [{ name: 'k', type: 'STRING' }]));
    expect((await one.listTable({})).tableNames).toEqual(['shared_name']);
    expect((await two.listTable({})).tableNames).toEqual([]);
    expect((await clientOf(emu, 'emulator').listTable({})).tableNames).toEqual([]);
  });

  it('keeps every instance across a restart with a data directory', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-instances-'));
    dirs.push(dataDir);
    const first = await startEmulator({ instanceName: ['main', 'side'], dataDir, fsync: false });
    await clientOf(first, 'main').createTable(tableParams('m', [{ name: 'k', type: 'STRING' }]));
    await clientOf(first, 'side').createTable(tableParams('s', [{ name: 'k', type: 'STRING' }]));
    await first.close();
    for (const compactOnOpen of [false, true]) {
      const again = await startEmulator({ instanceName: ['main', 'side'], dataDir, fsync: false, compactOnOpen });
      try {
        expect((await clientOf(again, 'main').listTable({})).tableNames).toEqual(['m']);
        expect((await clientOf(again, 'side').listTable({})).tableNames).toEqual(['s']);
      } finally {
        await again.close();
      }
    }
  });

  it('validates the option and the repeated --instance flag', async () => {
    for (const bad of [[], [''], ['a', 'a'], [7]]) {
      const err = await failure(startEmulator({ instanceName: bad as never }));
      expect(err.message).toContain('options.instanceName');
    }
    expect(parseArgs(['--instance', 'a', '--instance=b', '--instance', '*'])).toEqual({ port: 8800, instanceName: ['a', 'b', '*'] });
    expect(parseArgs(['--instance', 'solo'])).toEqual({ port: 8800, instanceName: 'solo' });
    expect(() => parseArgs(['--instance', 'a', '--instance', 'a'])).toThrow(UsageError);
  });
});

describe('request statistics', () => {
  it('count 20,000 requests to unknown paths under one bucket', async () => {
    const emu = await start({});
    const url = new URL(emu.endpoint);
    const total = 20_000;
    // Pipelined on a few raw connections: the server does all the work a client could make it do.
    const paths = Array.from({ length: total }, (_, i) => (i % 2 === 0 ? `/NoSuchApi${String.fromCharCode(97 + (i % 26))}${'x'.repeat(i % 50)}` : `/junk/${i}?q=${i}`));
    const statuses = new Set<string>();
    const lanes = 4;
    await Promise.all(
      Array.from({ length: lanes }, (_, lane) => {
        const mine = paths.filter((_p, i) => i % lanes === lane);
        return new Promise<void>((resolve, reject) => {
          const socket = net.connect(Number(url.port), url.hostname);
          let seen = 0;
          let tail = '';
          socket.setEncoding('latin1');
          socket.on('data', (chunk: string) => {
            const text = tail + chunk;
            let end = 0;
            for (const m of text.matchAll(/HTTP\/1\.1 (\d{3})/g)) {
              statuses.add(m[1]!);
              seen++;
              end = m.index + m[0].length;
            }
            // Keep only what may start a status line split across chunks, never a counted one.
            tail = text.slice(Math.max(end, text.length - 16));
            if (seen >= mine.length) {
              socket.end();
              resolve();
            }
          });
          socket.on('error', reject);
          socket.write(mine.map((p) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`).join(''));
        });
      }),
    );
    expect([...statuses]).toEqual(['400']);
    const stats = emu.stats();
    expect(stats.requests).toEqual({ '(unknown)': total });
    expect(JSON.stringify(stats).length).toBeLessThan(200);
    // Known API names keep their own bucket, supported or not.
    const hit = (p: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: url.hostname, port: url.port, method: 'POST', path: p, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    await hit('/ListTable');
    await hit('/CreateSearchIndex');
    expect(emu.stats().requests).toEqual({ '(unknown)': total, ListTable: 1, CreateSearchIndex: 1 });
  });
});
