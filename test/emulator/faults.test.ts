import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { attrs, big, clientFor, failure, IGNORE, long, setup, tableParams, TableStore, TIMELINE_PK, type SdkClient } from './sdk.js';

let emu: Emulator;
let client: SdkClient;

beforeAll(async () => {
  ({ emu, client } = await setup({ seed: 42 }));
});
afterAll(async () => {
  await emu.close();
});

async function freshTable(name: string): Promise<void> {
  await client.createTable(tableParams(name, TIMELINE_PK));
}

const autoPut = (tableName: string, text: string) =>
  client.putRow({
    tableName,
    condition: IGNORE(),
    primaryKey: [{ timeline_id: 't' }, { seq_id: TableStore.PK_AUTO_INCR }],
    attributeColumns: [{ text }],
    returnContent: { returnType: TableStore.ReturnType.Primarykey },
  });

async function countRows(tableName: string): Promise<number> {
  const data = await client.getRange({
    tableName,
    direction: TableStore.Direction.FORWARD,
    inclusiveStartPrimaryKey: [{ timeline_id: TableStore.INF_MIN }, { seq_id: TableStore.INF_MIN }],
    exclusiveEndPrimaryKey: [{ timeline_id: TableStore.INF_MAX }, { seq_id: TableStore.INF_MAX }],
  });
  return data.rows.length;
}

const batchOf = (tableName: string, n: number) => ({
  tables: [
    {
      tableName,
      rows: Array.from({ length: n }, (_, i) => ({
        type: 'PUT',
        condition: IGNORE(),
        primaryKey: [{ timeline_id: 't' }, { seq_id: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ i: long(i) }],
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      })),
    },
  ],
});

describe('error faults', () => {
  it('fails N requests of one API with the code and its default status, applying nothing', async () => {
    await freshTable('err_times');
    emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSServerBusy', times: 3 });
    for (let i = 0; i < 3; i++) {
      const err = await failure(client.batchWriteRow(batchOf('err_times', 2)));
      expect(err.code).toBe(503);
      expect(err.message).toContain('OTSServerBusy');
    }
    // Other APIs are untouched, and the fault is spent.
    await autoPut('err_times', 'ok');
    const data = await client.batchWriteRow(batchOf('err_times', 2));
    expect(data.tables.every((r: { isOk: boolean }) => r.isOk)).toBe(true);
    expect(await countRows('err_times')).toBe(3);
    expect(emu.stats().faults.BatchWriteRow).toBe(3);
    expect(emu.faults.list()).toEqual([]);
  });

  it('takes an explicit status and message, and applies to every API without `api`', async () => {
    const id = emu.faults.inject({ code: 'OTSInternalServerError', status: 502, message: 'boom' });
    expect(emu.faults.list()).toMatchObject([{ id, code: 'OTSInternalServerError', fired: 0 }]);
    const err = await failure(client.listTable({}));
    expect(err.code).toBe(502);
    expect(err.message).toContain('OTSInternalServerError');
    expect(err.message).toContain('boom');
    expect((await failure(client.describeTable({ tableName: 'x' }))).code).toBe(502);
    expect(emu.faults.remove(id)).toBe(true);
    expect(emu.faults.remove(id)).toBe(false);
    await client.listTable({});
  });

  it.each([
    ['OTSConditionCheckFail', 403],
    ['OTSObjectNotExist', 404],
    ['OTSRowOperationConflict', 409],
    ['OTSTimeout', 503],
    ['OTSSomethingUnknown', 500],
  ])('defaults %s to HTTP %d', async (code, status) => {
    emu.faults.inject({ api: 'ListTable', code, times: 1 });
    expect((await failure(client.listTable({}))).code).toBe(status);
  });

  it('fires with a probability, deterministically for a seed', async () => {
    const pattern = async (seed: number): Promise<string> => {
      const e = await startEmulator({ seed });
      const c = clientFor(e);
      e.faults.inject({ api: 'ListTable', code: 'OTSServerBusy', probability: 0.5 });
      let out = '';
      for (let i = 0; i < 24; i++) out += await c.listTable({}).then(() => '.', () => 'x');
      await e.close();
      return out;
    };
    const a = await pattern(7);
    expect(await pattern(7)).toBe(a);
    expect(a).toContain('x');
    expect(a).toContain('.');
    expect(await pattern(8)).not.toBe(a);
  });

  it('picks the same requests whatever order they arrive in: by content and attempt', async () => {
    // 40 different tables described one by one, in two orders: the same ones fail.
    const names = Array.from({ length: 40 }, (_, i) => `order_${i}`);
    const failed = async (order: readonly string[]): Promise<string[]> => {
      const e = await startEmulator({ seed: 11 });
      const c = clientFor(e);
      e.faults.inject({ api: 'DescribeTable', code: 'OTSServerBusy', probability: 0.3 });
      const out: string[] = [];
      for (const name of order) {
        const err = await c.describeTable({ tableName: name }).then(() => undefined, (x: { code: unknown }) => x);
        if (err !== undefined && (err as { code: unknown }).code === 503) out.push(name);
      }
      await e.close();
      return out.sort();
    };
    const forward = await failed(names);
    expect(forward.length).toBeGreaterThan(3);
    expect(forward.length).toBeLessThan(30);
    expect(await failed([...names].reverse())).toEqual(forward);
    // Concurrently, in whatever order the requests happen to arrive: still the same ones.
    const e = await startEmulator({ seed: 11 });
    const c = clientFor(e);
    e.faults.inject({ api: 'DescribeTable', code: 'OTSServerBusy', probability: 0.3 });
    const outcomes = await Promise.all(names.map((name) => c.describeTable({ tableName: name }).then(() => undefined, (x: { code: unknown }) => (x.code === 503 ? name : undefined))));
    await e.close();
    expect(outcomes.filter((n) => n !== undefined).sort()).toEqual(forward);
  });

  it('draws afresh for a repeated request (its next attempt), so a retry can succeed', async () => {
    // The same request over and over: a fault with probability 0.5 fires on some attempts only.
    const e = await startEmulator({ seed: 5 });
    const c = clientFor(e);
    e.faults.inject({ api: 'DescribeTable', code: 'OTSServerBusy', probability: 0.5 });
    let pattern = '';
    for (let i = 0; i < 16; i++) pattern += await c.describeTable({ tableName: 'same' }).then(() => '.', (x: { code: unknown }) => (x.code === 503 ? 'x' : '.'));
    expect(pattern).toContain('x');
    expect(pattern).toContain('.');
    // clear() forgets the attempts: the same sequence again.
    e.faults.clear();
    e.faults.inject({ api: 'DescribeTable', code: 'OTSServerBusy', probability: 0.5 });
    let again = '';
    for (let i = 0; i < 16; i++) again += await c.describeTable({ tableName: 'same' }).then(() => '.', (x: { code: unknown }) => (x.code === 503 ? 'x' : '.'));
    expect(again).toBe(pattern);
    await e.close();
  });
});

describe('latency', () => {
  it('adds latency per API, and globally through the option', async () => {
    // Lower bounds only: a timer never fires early, but a loaded machine can make anything late.
    emu.faults.inject({ api: 'ListTable', latencyMs: 250, times: 1 });
    const fired = emu.stats().faults.ListTable ?? 0;
    let t = Date.now();
    await client.listTable({});
    expect(Date.now() - t).toBeGreaterThanOrEqual(240);
    expect(emu.faults.list()).toEqual([]);
    await client.listTable({});
    // The second request had no latency to wait for: the fault fired once.
    expect(emu.stats().faults.ListTable).toBe(fired + 1);

    const slow = await startEmulator({ latencyMs: 100 });
    t = Date.now();
    await clientFor(slow).listTable({});
    expect(Date.now() - t).toBeGreaterThanOrEqual(90);
    await slow.close();
  });
});

describe('held requests', () => {
  it('holds a request until released, then applies it', async () => {
    await freshTable('held');
    emu.faults.inject({ api: 'PutRow', hold: 'until-released', times: 1 });
    const put = autoPut('held', 'late');
    expect(await emu.faults.whenHeld(1)).toBe(1);
    expect(emu.faults.held()).toBe(1);
    // Held: not applied yet, and other requests go on.
    expect(await countRows('held')).toBe(0);
    expect(await emu.faults.release()).toBe(1);
    // Applied by the time release() resolves.
    expect(emu.stats().rows.held).toBe(1);
    await put;
    expect(emu.faults.held()).toBe(0);
  });

  it('holds a request until its client gives up on the connection, then applies it: the ambiguous write', async () => {
    await freshTable('held_dc');
    emu.faults.inject({ api: 'PutRow', hold: 'until-disconnect', times: 1 });
    const impatient = clientFor(emu, { httpOptions: { timeout: 200 } });
    const put = failure(
      impatient.putRow({ tableName: 'held_dc', condition: IGNORE(), primaryKey: [{ timeline_id: 't' }, { seq_id: TableStore.PK_AUTO_INCR }], attributeColumns: [{ text: 'x' }] }),
    );
    await emu.faults.whenHeld(1);
    expect(await countRows('held_dc')).toBe(0);
    expect((await put).message).toMatch(/timed out/);
    // The client gave up; the service sees the connection close, goes on and applies it (bounded
    // round trips, not a sleep, until it has seen the close).
    for (let i = 0; i < 100 && emu.faults.held() > 0; i++) await client.listTable({});
    expect(emu.faults.held()).toBe(0);
    expect(await countRows('held_dc')).toBe(1);
  });

  it('waits for held requests with a bound, and close() releases them', async () => {
    const e = await startEmulator();
    await expect(e.faults.whenHeld(1, 50)).rejects.toThrow(/Expected 1 held request\(s\) within 50 ms, but 0 are held/);
    const c = clientFor(e);
    e.faults.inject({ api: 'ListTable', hold: 'until-released' });
    const listing = failure(c.listTable({}));
    await e.faults.whenHeld(1);
    await e.close();
    expect((await listing).code).toBe('NetworkingError');
    expect(e.faults.held()).toBe(0);
  });
});

describe('dropped connections', () => {
  it('drops before applying: nothing written', async () => {
    await freshTable('drop_before');
    emu.faults.inject({ api: 'PutRow', drop: 'before-apply', times: 1 });
    const err = await failure(autoPut('drop_before', 'lost'));
    expect(err.code).toBe('NetworkingError');
    expect(await countRows('drop_before')).toBe(0);
  });

  it('applies then drops: the ambiguous write is stored', async () => {
    await freshTable('drop_after');
    emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });
    const err = await failure(autoPut('drop_after', 'applied'));
    expect(err.code).toBe('NetworkingError');
    expect(await countRows('drop_after')).toBe(1);
    // A blind retry creates a second row with a new seq.
    await autoPut('drop_after', 'applied');
    expect(await countRows('drop_after')).toBe(2);
  });

  it('drops a batch after applying it', async () => {
    await freshTable('drop_batch');
    emu.faults.inject({ api: 'BatchWriteRow', drop: 'after-apply', times: 1 });
    expect((await failure(client.batchWriteRow(batchOf('drop_batch', 5)))).code).toBe('NetworkingError');
    expect(await countRows('drop_batch')).toBe(5);
  });
});

describe('per-row batch errors', () => {
  it('fails the chosen rows with the code; they are not applied, the others are', async () => {
    await freshTable('row_err');
    emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [0, 2], times: 1 });
    const data = await client.batchWriteRow(batchOf('row_err', 4));
    expect(data.tables.map((r: { isOk: boolean; errorCode: string | null }) => [r.isOk, r.errorCode])).toEqual([
      [false, 'OTSServerBusy'],
      [true, null],
      [false, 'OTSServerBusy'],
      [true, null],
    ]);
    const rows = (await client.getRange({
      tableName: 'row_err',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ timeline_id: TableStore.INF_MIN }, { seq_id: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ timeline_id: TableStore.INF_MAX }, { seq_id: TableStore.INF_MAX }],
    })).rows;
    expect(rows.map((r: { attributes: { columnName: string; columnValue: unknown }[] }) => big(attrs(r).i))).toEqual([1n, 3n]);
    // The fault was used once.
    const again = await client.batchWriteRow(batchOf('row_err', 2));
    expect(again.tables.every((r: { isOk: boolean }) => r.isOk)).toBe(true);
  });

  it('picks rows with a probability, deterministically for a seed', async () => {
    const run = async (): Promise<string> => {
      const e = await startEmulator({ seed: 99 });
      const c = clientFor(e);
      await c.createTable(tableParams('p', TIMELINE_PK));
      e.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSPartitionUnavailable', message: 'try later' }, rows: { probability: 0.3 } });
      const data = await c.batchWriteRow(batchOf('p', 40));
      await e.close();
      return data.tables.map((r: { isOk: boolean; errorMessage: string | null }) => (r.isOk ? '.' : r.errorMessage === 'try later' ? 'x' : '?')).join('');
    };
    const a = await run();
    expect(a).toMatch(/^[.x]+$/);
    expect(a).toContain('x');
    expect(a).toContain('.');
    expect(await run()).toBe(a);
  });

  it('also fails BatchGetRow rows', async () => {
    emu.faults.inject({ api: 'BatchGetRow', rowError: { code: 'OTSTimeout' }, rows: [1], times: 1 });
    const data = await client.batchGetRow({ tables: [{ tableName: 'row_err', primaryKey: [[{ timeline_id: 'a' }, { seq_id: long(1) }], [{ timeline_id: 'b' }, { seq_id: long(1) }]] }] });
    expect(data.tables[0].map((r: { isOk: boolean; errorCode: string | null }) => [r.isOk, r.errorCode])).toEqual([
      [true, null],
      [false, 'OTSTimeout'],
    ]);
  });
});

describe('fault specs', () => {
  it.each([
    [{}, 'needs'],
    [{ code: 'X', drop: 'before-apply' }, 'only one'],
    [{ drop: 'sometimes' }, 'drop'],
    [{ code: 'X', times: 0 }, 'times'],
    [{ code: 'X', probability: 2 }, 'probability'],
    [{ rows: [1] }, 'rows'],
    [{ hold: 'forever' }, 'hold'],
    [{ hold: 'until-released', code: 'X' }, 'only one'],
    [{ code: 'X', bogus: 1 }, 'Unknown fault option'],
  ])('rejects %j', (spec, text) => {
    expect(() => emu.faults.inject(spec as never)).toThrow(text);
  });
});

describe('control endpoint', () => {
  const control = (path: string, init?: { method?: string; body?: unknown }) =>
    fetch(`${emu.endpoint}/__emulator/${path}`, {
      method: init?.method ?? 'GET',
      ...(init?.body !== undefined ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } } : {}),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  it('injects, lists and clears faults over HTTP', async () => {
    const added = await control('faults', { method: 'POST', body: [{ api: 'ListTable', code: 'OTSServerBusy', times: 2 }] });
    expect(added.status).toBe(200);
    expect(added.body.ids).toHaveLength(1);
    expect((await control('faults')).body).toMatchObject([{ api: 'ListTable', code: 'OTSServerBusy', remaining: 2 }]);
    expect((await failure(client.listTable({}))).code).toBe(503);
    expect((await control(`faults/${added.body.ids[0]}`, { method: 'DELETE' })).status).toBe(200);
    await client.listTable({});
    await control('faults', { method: 'POST', body: { code: 'OTSServerBusy' } });
    expect((await control('faults', { method: 'DELETE' })).status).toBe(200);
    await client.listTable({});
    const bad = await control('faults', { method: 'POST', body: { code: 'X', drop: 'after-apply' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('only one');
  });

  it('waits for held requests and releases them over HTTP', async () => {
    await control('faults', { method: 'POST', body: { api: 'ListTable', hold: 'until-released', times: 1 } });
    const listing = client.listTable({});
    expect((await control('faults/held', { method: 'POST', body: { atLeast: 1, timeoutMs: 10_000 } })).body).toEqual({ held: 1 });
    expect((await control('faults/release', { method: 'POST' })).body).toEqual({ released: 1 });
    await listing;
    const none = await control('faults/held', { method: 'POST', body: { atLeast: 1, timeoutMs: 20 } });
    expect(none.status).toBe(400);
    expect(none.body.error).toContain('within 20 ms');
  });

  it('serves stats, advances the clock and resets', async () => {
    const e = await startEmulator({ clock: () => Date.UTC(2025, 0, 1) });
    const c = clientFor(e);
    const ctl = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${e.endpoint}/__emulator/${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    await c.createTable(tableParams('ttl', [{ name: 'k', type: 'STRING' }], { timeToLive: 86400, maxVersions: 1 }));
    await c.putRow({ tableName: 'ttl', condition: IGNORE(), primaryKey: [{ k: 'a' }], attributeColumns: [{ v: '1' }] });
    const stats = await ctl('stats');
    expect(stats.body.requests).toMatchObject({ CreateTable: 1, PutRow: 1 });
    expect(stats.body.rows).toEqual({ ttl: 1 });
    expect((await ctl('clock', 'POST', { advanceMs: 86_400_000 })).status).toBe(200);
    expect((await c.getRow({ tableName: 'ttl', primaryKey: [{ k: 'a' }] })).row).toEqual({});
    expect((await ctl('reset', 'POST')).status).toBe(200);
    expect((await c.listTable({})).tableNames).toEqual([]);
    expect((await ctl('stats')).body).toEqual({ requests: { ListTable: 1 }, errors: {}, faults: {}, rows: {} });
    expect((await ctl('nope')).status).toBe(404);
    await e.close();
  });

  it('is never an API name and can be disabled', async () => {
    const e = await startEmulator({ controlEndpoint: false });
    expect((await fetch(`${e.endpoint}/__emulator/stats`)).status).toBe(404);
    await e.close();
  });
});

describe('reset()', () => {
  it('drops tables, counters and faults', async () => {
    const e = await startEmulator();
    const c = clientFor(e);
    await c.createTable(tableParams('a', [{ name: 'k', type: 'STRING' }]));
    e.faults.inject({ api: 'PutRow', code: 'OTSServerBusy' });
    e.reset();
    expect(e.faults.list()).toEqual([]);
    expect(e.stats()).toEqual({ requests: {}, errors: {}, faults: {}, rows: {} });
    expect((await c.listTable({})).tableNames).toEqual([]);
    await e.close();
  });
});
