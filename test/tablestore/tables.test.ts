import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TimelineStore } from '../../src/core/timeline-store.js';
import { TableIncompatibleError } from '../../src/core/errors.js';
import { collect, harness, requests, tableName, timelineId, type Harness } from './helpers.js';

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

async function createRaw(name: string, primaryKey: { name: string; type: string; option?: string }[], ttl = -1): Promise<void> {
  await h.client.createTable({
    tableMeta: { tableName: name, primaryKey },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: ttl, maxVersions: 1 },
  });
}

describe('ensureTable', () => {
  it('creates (timeline_id STRING, seq_id INTEGER AUTO_INCREMENT), max versions 1, with the TTL', async () => {
    const name = tableName();
    const description = await h.backend.ensureTable({ table: name, ttlSeconds: 7 * 86_400 });
    expect(description).toEqual({ table: name, ttlSeconds: 7 * 86_400, created: true, ttlUpdated: false });
    const described = await h.client.describeTable({ tableName: name });
    expect(described.tableMeta?.primaryKey?.map((c) => ({ name: c.name, type: c.type, option: Object.hasOwn(c, 'option') ? c.option : undefined }))).toEqual([
      { name: 'timeline_id', type: 2, option: undefined },
      { name: 'seq_id', type: 1, option: 1 },
    ]);
    expect(described.tableOptions).toMatchObject({ timeToLive: 7 * 86_400, maxVersions: 1 });
    expect(await h.backend.ensureTable({ table: name, ttlSeconds: 7 * 86_400 })).toMatchObject({ created: false, ttlUpdated: false });
  });

  it('rejects an existing table whose primary key does not fit, naming both layouts', async () => {
    for (const primaryKey of [
      [
        { name: 'timeline_id', type: 'STRING' },
        { name: 'seq_id', type: 'INTEGER' },
      ],
      [{ name: 'timeline_id', type: 'STRING' }],
      [
        { name: 'timeline_id', type: 'BINARY' },
        { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ],
      [
        { name: 'timeline_id', type: 'STRING' },
        { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
        { name: 'extra', type: 'STRING' },
      ],
    ]) {
      const name = tableName();
      await createRaw(name, primaryKey);
      const store = new TimelineStore({ backend: h.backend, table: name });
      const error = await store.init().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TableIncompatibleError);
      expect(error).toMatchObject({ code: 'TABLE_INCOMPATIBLE', table: name });
      expect((error as Error).message).toContain('timeline_id STRING, seq_id INTEGER AUTO_INCREMENT');
      expect((error as Error).message).toContain(primaryKey.map((c) => c.name).join(', ').split(',')[0]!);
    }
  });

  it('never changes an existing table\'s TTL by default: rejects, stating both TTLs and the option', async () => {
    const name = tableName();
    await createRaw(name, [
      { name: 'timeline_id', type: 'STRING' },
      { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
    ], 86_400);
    const updates = requests(h.emu, 'UpdateTable');
    for (const options of [undefined, {}, { onTtlMismatch: 'error' as const }]) {
      const error = await h.backend.ensureTable({ table: name, ttlSeconds: -1 }, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TableIncompatibleError);
      expect(error).toMatchObject({ code: 'TABLE_INCOMPATIBLE', table: name });
      expect((error as Error).message).toMatch(/TTL of 86400 seconds but the store expects -1/);
      expect((error as Error).message).toContain("onTtlMismatch: 'update'");
    }
    expect(requests(h.emu, 'UpdateTable')).toBe(updates);
    expect((await h.client.describeTable({ tableName: name })).tableOptions?.timeToLive).toBe(86_400);
  });

  it('changes the TTL with UpdateTable only when onTtlMismatch is "update"', async () => {
    const name = tableName();
    await createRaw(name, [
      { name: 'timeline_id', type: 'STRING' },
      { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
    ], 86_400);
    const before = requests(h.emu, 'UpdateTable');
    expect(await h.backend.ensureTable({ table: name, ttlSeconds: -1 }, { onTtlMismatch: 'update' })).toEqual({ table: name, ttlSeconds: -1, created: false, ttlUpdated: true });
    expect(requests(h.emu, 'UpdateTable') - before).toBe(1);
    expect((await h.client.describeTable({ tableName: name })).tableOptions?.timeToLive).toBe(-1);
  });

  it('works with configured column names', async () => {
    const backend = h.another({ columns: { timelineId: 'user_id', seq: 'msg_seq', payload: 'body', messageId: 'mid', writeId: 'wid' } });
    const store = new TimelineStore<string>({ backend, table: tableName() });
    await store.init();
    const described = await h.client.describeTable({ tableName: store.table });
    expect(described.tableMeta?.primaryKey?.map((c) => c.name)).toEqual(['user_id', 'msg_seq']);
    const tl = store.timeline(timelineId());
    await tl.appendMany(['a', 'b'], { messageIds: ['1', '2'] });
    expect((await collect(tl.scan())).map((e) => [e.message, e.messageId])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    // The default layout does not fit this table.
    await expect(new TimelineStore({ backend: h.backend, table: store.table }).init()).rejects.toBeInstanceOf(TableIncompatibleError);
  });

  it('retries transient errors of table operations and of a table that is not ready yet', async () => {
    const name = tableName();
    h.emu.faults.inject({ api: 'DescribeTable', code: 'OTSServerBusy', times: 1 });
    h.emu.faults.inject({ api: 'CreateTable', drop: 'after-apply', times: 1 });
    expect(await h.backend.ensureTable({ table: name, ttlSeconds: -1 })).toMatchObject({ table: name, ttlSeconds: -1 });
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSTableNotReady', times: 2 });
    const [result] = await h.backend.append(name, [{ timelineId: timelineId(), payload: new Uint8Array([1]) }]);
    expect(result?.ok).toBe(true);
  });

  it('two stores creating the same table at once both succeed', async () => {
    const name = tableName();
    const other = h.another();
    const [a, b] = await Promise.all([h.backend.ensureTable({ table: name, ttlSeconds: -1 }), other.ensureTable({ table: name, ttlSeconds: -1 })]);
    expect([a.created, b.created].filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(h.emu.stats().rows[name] ?? 0).toBe(0);
  });

  it('operations on a missing table fail with OTSObjectNotExist, not retried', async () => {
    const before = requests(h.emu, 'GetRange');
    const error = await h.backend.scan(tableName(), { timelineId: 'x', direction: 'forward', limit: 10 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'OTSObjectNotExist', status: 404, retryable: false, operation: 'scan' });
    expect(requests(h.emu, 'GetRange') - before).toBe(1);
  });
});
