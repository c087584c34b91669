import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { Engine, type LogRecord } from '../../src/emulator/engine.js';
import { encodeRecord, FileLog, LOG_FILE, readLog } from '../../src/emulator/persistence.js';
import { big, clientFor, IGNORE, long, tableParams, TableStore, TIMELINE_PK, type SdkClient } from './sdk.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-emu-persist-'));
let dirCount = 0;
const newDir = (): string => path.join(root, `d${dirCount++}`);

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Every visible row of every table, as comparable JSON. */
async function dump(client: SdkClient): Promise<string> {
  const out: Record<string, unknown[]> = {};
  for (const tableName of (await client.listTable({})).tableNames as string[]) {
    const d = await client.describeTable({ tableName });
    const names = (d.tableMeta.primaryKey as { name: string }[]).map((c) => c.name);
    const rows: unknown[] = [];
    let start: Record<string, unknown>[] = names.map((n) => ({ [n]: TableStore.INF_MIN }));
    for (;;) {
      const page = await client.getRange({
        tableName,
        direction: TableStore.Direction.FORWARD,
        maxVersions: 10,
        inclusiveStartPrimaryKey: start,
        exclusiveEndPrimaryKey: names.map((n) => ({ [n]: TableStore.INF_MAX })),
      });
      for (const r of page.rows as { primaryKey: { name: string; value: unknown }[]; attributes: { columnName: string; columnValue: unknown; timestamp: unknown }[] }[]) {
        rows.push([
          r.primaryKey.map((c) => (typeof c.value === 'string' ? c.value : String(big(c.value)))),
          r.attributes.map((a) => [a.columnName, typeof a.columnValue === 'string' ? a.columnValue : String(a.columnValue), String(big(a.timestamp))]),
        ]);
      }
      if (!page.nextStartPrimaryKey) break;
      start = (page.nextStartPrimaryKey as { name: string; value: unknown }[]).map((c) => ({ [c.name]: c.value }));
    }
    out[tableName] = [JSON.stringify(d.tableOptions), rows];
  }
  return JSON.stringify(out);
}

async function open(dataDir: string, extra: Record<string, unknown> = {}): Promise<{ emu: Emulator; client: SdkClient }> {
  const emu = await startEmulator({ dataDir, clock: () => Date.UTC(2025, 0, 1), ...extra });
  return { emu, client: clientFor(emu) };
}

describe('persistence', () => {
  it('keeps tables, rows, versions and auto-increment counters across a restart', async () => {
    const dir = newDir();
    let { emu, client } = await open(dir);
    await client.createTable(tableParams('tl', TIMELINE_PK, { timeToLive: -1, maxVersions: 2 }));
    const seqs: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await client.putRow({
        tableName: 'tl',
        condition: IGNORE(),
        primaryKey: [{ timeline_id: 'a' }, { seq_id: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ text: `m${i}` }],
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      });
      seqs.push(big(r.row.primaryKey[1].value));
    }
    await client.updateRow({ tableName: 'tl', condition: IGNORE(), primaryKey: [{ timeline_id: 'a' }, { seq_id: long(seqs[0]!) }], updateOfAttributeColumns: [{ PUT: [{ text: 'v2', timestamp: Date.UTC(2025, 0, 1) - 5 }] }] });
    await client.deleteRow({ tableName: 'tl', condition: IGNORE(), primaryKey: [{ timeline_id: 'a' }, { seq_id: long(seqs[2]!) }] });
    await client.updateTable({ tableName: 'tl', tableOptions: { timeToLive: 2 * 86400 } });
    await client.createTable(tableParams('gone', [{ name: 'k', type: 'STRING' }]));
    await client.deleteTable({ tableName: 'gone' });
    const before = await dump(client);
    await emu.close();

    for (const compactOnOpen of [false, true, true]) {
      ({ emu, client } = await open(dir, { compactOnOpen }));
      expect(await dump(client)).toBe(before);
      await emu.close();
    }
    ({ emu, client } = await open(dir));
    const r = await client.putRow({
      tableName: 'tl',
      condition: IGNORE(),
      primaryKey: [{ timeline_id: 'a' }, { seq_id: TableStore.PK_AUTO_INCR }],
      attributeColumns: [{ text: 'after restart' }],
      returnContent: { returnType: TableStore.ReturnType.Primarykey },
    });
    // Strictly above every value ever generated, the deleted row's included.
    expect(big(r.row.primaryKey[1].value) > seqs[2]!).toBe(true);
    await emu.close();
  });

  it('empties the log on reset()', async () => {
    const dir = newDir();
    let { emu, client } = await open(dir);
    await client.createTable(tableParams('t', [{ name: 'k', type: 'STRING' }]));
    emu.reset();
    await emu.close();
    ({ emu, client } = await open(dir));
    expect((await client.listTable({})).tableNames).toEqual([]);
    await emu.close();
  });

  it('reopens a log cut at every byte of its last records as a prefix of the acknowledged states', async () => {
    const dir = newDir();
    const { emu, client } = await open(dir, { compactOnOpen: false });
    const logPath = path.join(dir, LOG_FILE);
    const states: string[] = [await dump(client)];
    const sizes: number[] = [fs.statSync(logPath).size];
    const ack = async (op: Promise<unknown>): Promise<void> => {
      await op;
      states.push(await dump(client));
      sizes.push(fs.statSync(logPath).size);
    };
    await ack(client.createTable(tableParams('t', [{ name: 'k', type: 'STRING' }])));
    await ack(client.putRow({ tableName: 't', condition: IGNORE(), primaryKey: [{ k: 'a' }], attributeColumns: [{ v: '1' }] }));
    await ack(
      client.batchWriteRow({
        tables: [
          {
            tableName: 't',
            rows: [
              { type: 'PUT', condition: IGNORE(), primaryKey: [{ k: 'b' }], attributeColumns: [{ v: '2' }] },
              { type: 'UPDATE', condition: IGNORE(), primaryKey: [{ k: 'a' }], attributeColumns: [{ PUT: [{ w: 'x' }] }] },
            ],
          },
        ],
      }),
    );
    await ack(client.deleteRow({ tableName: 't', condition: IGNORE(), primaryKey: [{ k: 'b' }] }));
    await emu.close();
    const image = fs.readFileSync(logPath);
    expect(image.length).toBe(sizes[sizes.length - 1]);
    expect(readLog(image).records).toHaveLength(4);

    // Reopening through the emulator at every record boundary gives the acknowledged states.
    for (let j = 0; j < sizes.length; j++) {
      const d = newDir();
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, LOG_FILE), image.subarray(0, sizes[j]));
      const r = await open(d, { fsync: false });
      expect(await dump(r.client), `boundary ${j}`).toBe(states[j]);
      await r.emu.close();
    }

    // Every cut inside the last three records: the log layer alone (fast), compared with the
    // state of the first `complete` records.
    const records = readLog(image).records;
    const engineDump = (recs: Iterable<LogRecord>): string => {
      const engine = new Engine({ now: () => BigInt(Date.UTC(2025, 0, 1)), random: () => 0 });
      for (const rec of recs) engine.applyRecord(rec);
      return [...engine.snapshot()].map((rec) => encodeRecord(rec).toString('utf8')).join('\n');
    };
    const expected = sizes.map((_, j) => engineDump(records.slice(0, j)));
    const d = newDir();
    let reopened = 0;
    for (let cut = sizes[1]!; cut <= image.length; cut++) {
      fs.rmSync(d, { recursive: true, force: true });
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, LOG_FILE), image.subarray(0, cut));
      const complete = sizes.filter((s) => s <= cut).length - 1;
      const engine = new Engine({ now: () => BigInt(Date.UTC(2025, 0, 1)), random: () => 0 });
      const log = FileLog.open(d, { fsync: false, compact: cut % 2 === 0 }, (rec) => engine.applyRecord(rec), () => engine.snapshot());
      log.close();
      expect(engineDump(engine.snapshot()), `cut at ${cut}`).toBe(expected[complete]);
      // The torn tail is gone: the file holds only whole records (exactly the complete ones when not compacted).
      const after = readLog(fs.readFileSync(path.join(d, LOG_FILE)));
      expect(after.validLength).toBe(after.fileLength);
      if (cut % 2 === 1) expect(after.records).toHaveLength(complete);
      reopened++;
    }
    expect(reopened).toBeGreaterThan(100);
  });

  it('survives kill -9 of a child process mid-write with exactly a prefix of the writes, every acknowledged one included', async () => {
    const requireFromRoot = createRequire(path.join(process.cwd(), 'package.json'));
    const esbuild = requireFromRoot('esbuild') as { build(o: Record<string, unknown>): Promise<unknown> };
    const bundle = path.join(root, 'child-emulator.cjs');
    await esbuild.build({
      entryPoints: [path.join(process.cwd(), 'test/emulator/fixtures/child-emulator.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: bundle,
      logLevel: 'silent',
    });
    const dir = newDir();
    const child = spawn(process.execPath, [bundle, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const endpoint = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const line = buf.split('\n')[0];
        if (buf.includes('\n') && line) resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      });
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const client = new TableStore.Client({ endpoint, instancename: 'emulator', accessKeyId: 'emulator-access-key-id', secretAccessKey: 'emulator-access-key-secret', maxRetries: 0 });
    await client.createTable(tableParams('t', [{ name: 'k', type: 'STRING' }]));
    const key = (i: number): string => `w${String(i).padStart(5, '0')}`;
    // One writer, one write at a time: the log order is the issue order, so the reopened state
    // must be exactly the first m writes, m being the acknowledged count or one more (the write in
    // flight at the kill may or may not have reached the log).
    let acked = 0;
    let stop = false;
    const writer = (async (): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          await client.putRow({ tableName: 't', condition: IGNORE(), primaryKey: [{ k: key(i) }], attributeColumns: [{ v: long(i) }] });
        } catch {
          return;
        }
        acked = i + 1;
      }
    })();
    const deadline = Date.now() + 10_000;
    while (acked < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    const ackedAtKill = acked;
    stop = true;
    await writer;
    await exited;
    expect(ackedAtKill).toBeGreaterThanOrEqual(30);

    const { emu, client: c2 } = await open(dir);
    const present: string[] = [];
    let start: unknown[] = [{ k: TableStore.INF_MIN }];
    for (;;) {
      const page = await c2.getRange({ tableName: 't', direction: TableStore.Direction.FORWARD, inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }] });
      for (const r of page.rows as { primaryKey: { value: string }[] }[]) present.push(r.primaryKey[0]!.value);
      if (!page.nextStartPrimaryKey) break;
      start = [{ k: page.nextStartPrimaryKey[0].value }];
    }
    await emu.close();
    expect(present.length === ackedAtKill || present.length === ackedAtKill + 1).toBe(true);
    expect(present).toEqual(Array.from({ length: present.length }, (_, i) => key(i)));
  });
});
