/**
 * TableStore specifics of `backend.records` (the shared contract runs in records.contract.test.ts):
 * the table layout, which request each call makes, per-row retries, ambiguous outcomes, and the
 * checks made before anything is sent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, BackendError, ClosedError, TableIncompatibleError, ValidationError, WriteUncertainError } from '../../src/core/errors.js';
import type { RecordWrite } from '../../src/core/records.js';
import { createRetryStrategy } from '../../src/backends/tablestore/index.js';
import { bytes, harness, requests, tableName, text, type Harness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emu.faults.clear();
});

const put = (partition: string, key: string, value: string, version: string, expect?: RecordWrite['expect']): RecordWrite =>
  expect === undefined ? { type: 'put', partition, key, value: bytes(value), version } : { type: 'put', partition, key, value: bytes(value), version, expect };

async function recordTable(ttlSeconds = -1): Promise<string> {
  const name = tableName();
  await h.backend.records.ensureRecordTable({ table: name, ttlSeconds });
  return name;
}

/** Requests per API made while `fn` runs. */
async function counting<T>(apis: readonly string[], fn: () => Promise<T>): Promise<{ value: T; counts: Record<string, number> }> {
  const before = apis.map((api) => requests(h.emu, api));
  const value = await fn();
  return { value, counts: Object.fromEntries(apis.map((api, i) => [api, requests(h.emu, api) - before[i]!])) };
}

const WRITE_APIS = ['PutRow', 'DeleteRow', 'BatchWriteRow'] as const;

describe('record tables', () => {
  it('creates (partition STRING, key STRING), max versions 1, with the TTL; configured column names', async () => {
    const name = await recordTable(7 * 86_400);
    const described = await h.client.describeTable({ tableName: name });
    expect(described.tableMeta?.primaryKey?.map((c) => [c.name, c.type])).toEqual([
      ['partition', 2],
      ['key', 2],
    ]);
    expect(described.tableOptions).toMatchObject({ timeToLive: 7 * 86_400, maxVersions: 1 });

    const custom = h.another({ recordColumns: { partition: 'user_id', key: 'conv_id', value: 'body', version: 'ver' } });
    const other = tableName();
    await custom.records.ensureRecordTable({ table: other, ttlSeconds: -1 });
    expect((await h.client.describeTable({ tableName: other })).tableMeta?.primaryKey?.map((c) => c.name)).toEqual(['user_id', 'conv_id']);
    expect(await custom.records.writeRecords(other, [put('u', 'c', 'x', 'v1'), put('u', 'd', 'y', 'v1')])).toEqual([{ ok: true }, { ok: true }]);
    expect(await custom.records.writeRecords(other, [put('u', 'c', 'z', 'v2', { version: 'v1' })])).toEqual([{ ok: true }]);
    const row = await h.client.getRow({ tableName: other, primaryKey: [{ user_id: 'u' }, { conv_id: 'c' }], maxVersions: 1 });
    expect(row.row?.attributes?.map((a) => a.columnName).sort()).toEqual(['body', 'ver']);
    // The default layout does not fit that table.
    await expect(h.backend.records.ensureRecordTable({ table: other, ttlSeconds: -1 })).rejects.toThrow(/a record table needs \(partition STRING, key STRING\).*`recordColumns` option/);
  });

  it('rejects a timeline table, and never changes a TTL unless onTtlMismatch is "update"', async () => {
    const timelines = tableName();
    await h.backend.ensureTable({ table: timelines, ttlSeconds: -1 });
    await expect(h.backend.records.ensureRecordTable({ table: timelines, ttlSeconds: -1 })).rejects.toBeInstanceOf(TableIncompatibleError);

    const name = await recordTable(86_400);
    const { value: error, counts } = await counting(['UpdateTable'], () => h.backend.records.ensureRecordTable({ table: name, ttlSeconds: -1 }).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(TableIncompatibleError);
    expect((error as Error).message).toMatch(/TTL of 86400 seconds but the store expects -1.*onTtlMismatch: 'update'/);
    expect(counts.UpdateTable).toBe(0);
    expect(await h.backend.records.ensureRecordTable({ table: name, ttlSeconds: -1 }, { onTtlMismatch: 'update' })).toMatchObject({ ttlUpdated: true, ttlSeconds: -1 });
  });

  it('rejects bad option names synchronously', () => {
    expect(() => h.another({ recordColumns: { key: 'a key' } })).toThrow(/options\.recordColumns\.key/);
    expect(() => h.another({ recordColumns: { value: 'v', version: 'v' } })).toThrow(/must differ/);
  });
});

describe('record writes: one request per call', () => {
  it('a single put is one PutRow, a single delete one DeleteRow, several writes one BatchWriteRow', async () => {
    const t = await recordTable();
    const r = h.backend.records;
    expect((await counting(WRITE_APIS, () => r.writeRecords(t, [put('p', 'a', '1', 'v1', 'absent')]))).counts).toEqual({ PutRow: 1, DeleteRow: 0, BatchWriteRow: 0 });
    expect((await counting(WRITE_APIS, () => r.writeRecords(t, [{ type: 'delete', partition: 'p', key: 'a', expect: { version: 'v1' } }]))).counts).toEqual({
      PutRow: 0,
      DeleteRow: 1,
      BatchWriteRow: 0,
    });
    const batch = await counting(WRITE_APIS, () => r.writeRecords(t, [put('p', 'a', '1', 'v1'), put('q', 'b', '2', 'v2'), { type: 'delete', partition: 'p', key: 'zz' }]));
    expect(batch.value).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(batch.counts).toEqual({ PutRow: 0, DeleteRow: 0, BatchWriteRow: 1 });
  });

  it('splits a batch only past the 4 MB request limit', async () => {
    const t = await recordTable();
    const big = (key: string): RecordWrite => ({ type: 'put', partition: 'p', key, value: new Uint8Array(1_500_000).fill(key.charCodeAt(0)), version: key });
    const { value, counts } = await counting(WRITE_APIS, () => h.backend.records.writeRecords(t, [big('a'), big('b'), big('c')]));
    expect(value).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    // 3 MB in the first request; the third record alone in a second one.
    expect(counts).toEqual({ PutRow: 1, DeleteRow: 0, BatchWriteRow: 1 });
    const c = await h.backend.records.getRecord(t, 'p', 'c');
    expect([c?.value.byteLength, c?.value[0]]).toEqual([1_500_000, 'c'.charCodeAt(0)]);
  });

  it('reads are one GetRow and one GetRange per call', async () => {
    const t = await recordTable();
    await h.backend.records.writeRecords(t, [put('p', 'a', 'x', 'v1'), put('p', 'b', 'y', 'v2')]);
    const got = await counting(['GetRow'], () => h.backend.records.getRecord(t, 'p', 'a'));
    expect(got.counts.GetRow).toBe(1);
    expect(text(got.value!.value)).toBe('x');
    const page = await counting(['GetRange'], () => h.backend.records.scanRecords(t, { partition: 'p', limit: 10 }));
    expect(page.counts.GetRange).toBe(1);
    expect(page.value.records.map((rec) => [rec.key, rec.version])).toEqual([
      ['a', 'v1'],
      ['b', 'v2'],
    ]);
    // An empty range costs nothing.
    expect((await counting(['GetRange'], () => h.backend.records.scanRecords(t, { partition: 'p', start: 'b', end: 'a', limit: 10 }))).counts.GetRange).toBe(0);
  });
});

describe('record writes under faults', () => {
  it('re-sends only the rows of a batch that failed with a retryable error; conflicts stay conflicts', async () => {
    const t = await recordTable();
    await h.backend.records.writeRecords(t, [put('p', 'taken', 'old', 'v0')]);
    h.emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [1], times: 1 });
    const { value, counts } = await counting(WRITE_APIS, () =>
      h.backend.records.writeRecords(t, [put('p', 'taken', 'new', 'v1', 'absent'), put('p', 'busy', 'b', 'v1', 'absent'), put('p', 'free', 'f', 'v1', 'absent')]),
    );
    expect(value).toEqual([{ ok: false, conflict: true }, { ok: true }, { ok: true }]);
    // The batch, then the one busy row alone.
    expect(counts).toEqual({ PutRow: 1, DeleteRow: 0, BatchWriteRow: 1 });
    expect((await h.backend.records.getRecord(t, 'p', 'busy'))?.version).toBe('v1');
    expect(text((await h.backend.records.getRecord(t, 'p', 'taken'))!.value)).toBe('old');
  });

  it('retries a throttled single write under the strategy', async () => {
    const t = await recordTable();
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSServerBusy', times: 2 });
    const { value, counts } = await counting(WRITE_APIS, () => h.backend.records.writeRecords(t, [put('p', 'k', 'x', 'v1', 'absent')]));
    expect(value).toEqual([{ ok: true }]);
    expect(counts.PutRow).toBe(3);
  });

  it('an ambiguous outcome is a WriteUncertainError result, never retried: reading the version back settles it', async () => {
    const t = await recordTable();
    h.emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });
    const { value, counts } = await counting(WRITE_APIS, () => h.backend.records.writeRecords(t, [put('p', 'k', 'x', 'mine', 'absent')]));
    expect(counts.PutRow).toBe(1);
    const [result] = value;
    expect(result).toMatchObject({ ok: false, conflict: false });
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(WriteUncertainError);
    expect(error).toMatchObject({ code: 'WRITE_UNCERTAIN', retryable: true, operation: 'writeRecords', table: t });
    expect((error as Error).message).toContain('its version is "mine"');
    expect((await h.backend.records.getRecord(t, 'p', 'k'))?.version).toBe('mine');

    h.emu.faults.inject({ api: 'BatchWriteRow', drop: 'before-apply', times: 1 });
    const batch = await h.backend.records.writeRecords(t, [put('p', 'a', 'x', 'v1'), { type: 'delete', partition: 'p', key: 'k' }]);
    expect(batch.map((r) => (r.ok ? 'ok' : r.conflict ? 'conflict' : r.error.code))).toEqual(['WRITE_UNCERTAIN', 'WRITE_UNCERTAIN']);
    expect(await h.backend.records.getRecord(t, 'p', 'a')).toBeUndefined();
  });

  it('an ambiguous row of a batch is uncertain on its own; the other rows keep their outcome', async () => {
    const t = await recordTable();
    h.emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSTimeout' }, rows: [1], times: 1 });
    const { value, counts } = await counting(WRITE_APIS, () => h.backend.records.writeRecords(t, [put('p', 'a', 'x', 'v1'), put('p', 'b', 'y', 'v1'), put('p', 'c', 'z', 'v1')]));
    expect(value.map((r) => (r.ok ? 'ok' : r.conflict ? 'conflict' : r.error.code))).toEqual(['ok', 'WRITE_UNCERTAIN', 'ok']);
    expect(counts).toEqual({ PutRow: 0, DeleteRow: 0, BatchWriteRow: 1 });
  });

  it('a signal that fires while waiting to retry stops the call: the pending writes fail with an AbortedError', async () => {
    const t = await recordTable();
    const controller = new AbortController();
    const patient = h.another({ retryStrategy: ({ attempt }) => (attempt < 50 ? 60_000 : null) });
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSServerBusy', times: 1 });
    const before = requests(h.emu, 'PutRow');
    const pending = patient.records.writeRecords(t, [put('p', 'k', 'x', 'v1')], { signal: controller.signal });
    // The first attempt's answer arrives, then the call waits 60 s: abort it then.
    await vi.waitFor(() => expect(requests(h.emu, 'PutRow')).toBe(before + 1), { timeout: 5000, interval: 5 });
    controller.abort(new Error('user gave up'));
    const [result] = await pending;
    expect(result).toMatchObject({ ok: false, conflict: false });
    expect((result as { error: unknown }).error).toBeInstanceOf(AbortedError);
    expect(requests(h.emu, 'PutRow')).toBe(before + 1);
    expect(await h.backend.records.getRecord(t, 'p', 'k')).toBeUndefined();
  });

  it('gives up when the strategy says so, with each row\'s error naming the option', async () => {
    const t = await recordTable();
    const impatient = h.another({ retryStrategy: createRetryStrategy({ budgetMs: 0 }) });
    h.emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSServerBusy', times: 1 });
    const results = await impatient.records.writeRecords(t, [put('p', 'a', 'x', 'v1'), put('p', 'b', 'y', 'v1')]);
    for (const result of results) {
      expect(result).toMatchObject({ ok: false, conflict: false });
      const error = (result as { error: unknown }).error as BackendError;
      expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'OTSServerBusy', retryable: true });
      expect(error.message).toMatch(/retry budget is exhausted.*retryStrategy/);
    }
    expect(await h.backend.records.getRecord(t, 'p', 'a')).toBeUndefined();
  });

  it('a request refused as a whole with a fatal error rejects the call: nothing was applied', async () => {
    const missing = tableName();
    for (const writes of [[put('p', 'a', 'x', 'v1')], [put('p', 'a', 'x', 'v1'), put('p', 'b', 'x', 'v1')]]) {
      const error = await h.backend.records.writeRecords(missing, writes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ backendCode: 'OTSObjectNotExist', retryable: false });
    }
  });
});

describe('record calls checked before anything is sent', () => {
  it('rejects malformed writes with a ValidationError naming the parameter, sending nothing', async () => {
    const t = await recordTable();
    const r = h.backend.records;
    const cases: [unknown, RegExp][] = [
      [Array.from({ length: 201 }, (_, i) => put('p', `k${i}`, 'x', 'v')), /at most 200 writes/],
      [[put('p', 'k', 'x', 'v'), put('p', 'k', 'y', 'v')], /appears twice/],
      [[put('p', 'k\uD800', 'x', 'v')], /writes\[0\]\.key.*lone surrogate/],
      [[put('p', 'k'.repeat(1025), 'x', 'v')], /writes\[0\]\.key.*1024/],
      [[{ type: 'put', partition: 'p', key: 'k', value: 'text', version: 'v' }], /writes\[0\]\.value/],
      [[{ type: 'upsert', partition: 'p', key: 'k' }], /writes\[0\]\.type/],
      [[put('p', 'k', 'x', 'v', { version: 5 } as never)], /writes\[0\]\.expect\.version/],
      [[put('p', 'k', 'x', 'v', Object.create(null) as never)], /writes\[0\]\.expect/],
      [[{ type: 'put', partition: 'p', key: 'k', value: new Uint8Array(2_000_001), version: 'v' }], /over the limit/],
    ];
    const before = WRITE_APIS.map((api) => requests(h.emu, api));
    for (const [writes, message] of cases) {
      const error = await r.writeRecords(t, writes as RecordWrite[]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(message);
    }
    expect(WRITE_APIS.map((api) => requests(h.emu, api))).toEqual(before);
    await expect(r.scanRecords(t, { partition: 'p', limit: 0 })).rejects.toThrow(/request\.limit/);
    await expect(r.scanRecords(t, { partition: 'p', limit: 5001 })).rejects.toThrow(/request\.limit/);
    await expect(r.getRecord(t, 'p\uDC00', 'k')).rejects.toBeInstanceOf(ValidationError);
  });

  it('a closed backend rejects every record call with a ClosedError', async () => {
    const b = h.another();
    const t = tableName();
    await b.records.ensureRecordTable({ table: t, ttlSeconds: -1 });
    await b.close();
    await expect(b.records.writeRecords(t, [put('p', 'k', 'x', 'v')])).rejects.toBeInstanceOf(ClosedError);
    await expect(b.records.getRecord(t, 'p', 'k')).rejects.toBeInstanceOf(ClosedError);
    await expect(b.records.scanRecords(t, { partition: 'p', limit: 1 })).rejects.toBeInstanceOf(ClosedError);
  });
});
