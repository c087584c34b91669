import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import {
  attrs,
  big,
  EXPECT_EXIST,
  EXPECT_NOT_EXIST,
  failure,
  IGNORE,
  long,
  setup,
  tableParams,
  TableStore,
  TIMELINE_PK,
  type ManualClock,
  type SdkClient,
} from './sdk.js';

let emu: Emulator;
let client: SdkClient;
let clock: ManualClock;

const KV = [
  { name: 'pk', type: 'STRING' },
  { name: 'n', type: 'INTEGER' },
];

beforeAll(async () => {
  ({ emu, client, clock } = await setup());
  await client.createTable(tableParams('kv', KV));
  await client.createTable(tableParams('timeline', TIMELINE_PK));
  await client.createTable(tableParams('ttl', KV, { timeToLive: 86400, maxVersions: 1 }));
  await client.createTable(tableParams('versions', KV, { timeToLive: -1, maxVersions: 3 }));
  await client.createTable(tableParams('bin', [{ name: 'b', type: 'BINARY' }]));
});
afterAll(async () => {
  await emu.close();
});

async function expectError(p: Promise<unknown>, status: number, code: string, text?: string): Promise<void> {
  const err = await failure(p);
  expect(err.code).toBe(status);
  expect(err.message).toContain(code);
  if (text !== undefined) expect(err.message).toContain(text);
}

const put = (tableName: string, primaryKey: unknown[], attributeColumns: unknown[], extra: Record<string, unknown> = {}) =>
  client.putRow({ tableName, condition: IGNORE(), primaryKey, attributeColumns, ...extra });
const get = (tableName: string, primaryKey: unknown[], extra: Record<string, unknown> = {}) => client.getRow({ tableName, primaryKey, ...extra });

describe('PutRow / GetRow', () => {
  it('round-trips every attribute type exactly', async () => {
    const pk = [{ pk: 'types' }, { n: long('9007199254740993') }];
    await put('kv', pk, [
      { s: 'héllo ✓' },
      { i: long('-9223372036854775808') },
      { big: long('9223372036854775807') },
      { d: 3.25 },
      { t: true },
      { f: false },
      { blob: Buffer.from([0, 1, 2, 255]) },
    ]);
    const { row } = await get('kv', pk);
    expect(row.primaryKey[0]).toEqual({ name: 'pk', value: 'types' });
    expect(big(row.primaryKey[1].value)).toBe(9007199254740993n);
    const a = attrs(row);
    expect(a.s).toBe('héllo ✓');
    expect(big(a.i)).toBe(-9223372036854775808n);
    expect(big(a.big)).toBe(9223372036854775807n);
    expect(a.d).toBe(3.25);
    expect(a.t).toBe(true);
    expect(a.f).toBe(false);
    expect(Buffer.compare(a.blob as Buffer, Buffer.from([0, 1, 2, 255]))).toBe(0);
    // Columns come back sorted by name, each with the write time as its version.
    expect(row.attributes.map((c: { columnName: string }) => c.columnName)).toEqual(['big', 'blob', 'd', 'f', 'i', 's', 't']);
    expect(big(row.attributes[0].timestamp)).toBe(BigInt(clock.ms));
  });

  it('returns an empty row for a missing key', async () => {
    const { row } = await get('kv', [{ pk: 'nope' }, { n: long(1) }]);
    expect(row).toEqual({});
  });

  it('replaces the whole row on PutRow', async () => {
    const pk = [{ pk: 'replace' }, { n: long(1) }];
    await put('kv', pk, [{ a: 'x' }, { b: 'y' }]);
    await put('kv', pk, [{ c: 'z' }]);
    expect(attrs((await get('kv', pk)).row)).toEqual({ c: 'z' });
  });

  it('keeps a primary-key-only row', async () => {
    const pk = [{ pk: 'pk-only' }, { n: long(1) }];
    await put('kv', pk, []);
    const { row } = await get('kv', pk);
    expect(row.primaryKey).toHaveLength(2);
    expect(row.attributes).toEqual([]);
  });

  it('honours columns_to_get', async () => {
    const pk = [{ pk: 'cols' }, { n: long(1) }];
    await put('kv', pk, [{ a: '1' }, { b: '2' }, { c: '3' }]);
    expect(attrs((await get('kv', pk, { columnsToGet: ['a', 'c'] })).row)).toEqual({ a: '1', c: '3' });
    // None of the requested columns exists: no row.
    expect((await get('kv', pk, { columnsToGet: ['zzz'] })).row).toEqual({});
  });

  it('checks row existence conditions', async () => {
    const pk = [{ pk: 'cond' }, { n: long(1) }];
    await expectError(client.putRow({ tableName: 'kv', condition: EXPECT_EXIST(), primaryKey: pk, attributeColumns: [{ a: '1' }] }), 403, 'OTSConditionCheckFail');
    await client.putRow({ tableName: 'kv', condition: EXPECT_NOT_EXIST(), primaryKey: pk, attributeColumns: [{ a: '1' }] });
    await expectError(client.putRow({ tableName: 'kv', condition: EXPECT_NOT_EXIST(), primaryKey: pk, attributeColumns: [{ a: '2' }] }), 403, 'OTSConditionCheckFail');
    await client.putRow({ tableName: 'kv', condition: EXPECT_EXIST(), primaryKey: pk, attributeColumns: [{ a: '3' }] });
    expect(attrs((await get('kv', pk)).row)).toEqual({ a: '3' });
  });

  it('validates the primary key against the schema', async () => {
    await expectError(put('kv', [{ pk: 'x' }], [{ a: '1' }]), 400, 'OTSInvalidPK', 'Validate PK size fail');
    await expectError(put('kv', [{ pk: 'x' }, { m: long(1) }], [{ a: '1' }]), 400, 'OTSInvalidPK', 'Validate PK name fail');
    await expectError(put('kv', [{ pk: 'x' }, { n: 'str' }], [{ a: '1' }]), 400, 'OTSInvalidPK', 'Validate PK type fail');
    await expectError(put('kv', [{ pk: 'x' }, { n: TableStore.PK_AUTO_INCR }], [{ a: '1' }]), 400, 'OTSParameterInvalid', 'not an auto-increment column');
    await expectError(get('kv', [{ pk: 'x' }, { n: TableStore.INF_MIN }]), 400, 'OTSParameterInvalid', 'INF_MIN');
    await expectError(put('nope', [{ pk: 'x' }, { n: long(1) }], [{ a: '1' }]), 404, 'OTSObjectNotExist');
    await expectError(put('kv', [{ pk: 'x' }, { n: long(1) }], [{ pk: 'clash' }]), 400, 'OTSParameterInvalid', 'primary key column');
  });

  it('enforces the size limits', async () => {
    await expectError(put('kv', [{ pk: 'x'.repeat(1025) }, { n: long(1) }], [{ a: '1' }]), 400, 'OTSParameterInvalid', 'MaxLength:1024');
    await put('kv', [{ pk: 'x'.repeat(1024) }, { n: long(1) }], [{ a: '1' }]);
    await expectError(put('kv', [{ pk: 'big' }, { n: long(1) }], [{ a: 'v'.repeat(2 * 1024 * 1024 + 1) }]), 400, 'OTSParameterInvalid', 'MaxLength:2097152');
    await put('kv', [{ pk: 'big' }, { n: long(1) }], [{ a: 'v'.repeat(2 * 1024 * 1024) }]);
    const twoMb = 'w'.repeat(2 * 1024 * 1024);
    await expectError(put('kv', [{ pk: 'huge' }, { n: long(1) }], [{ a: twoMb }, { b: twoMb }, { c: 'x' }]), 413, 'OTSRequestBodyTooLarge');
    const many = Array.from({ length: 1025 }, (_, i) => ({ [`c${i}`]: long(i) }));
    await expectError(put('kv', [{ pk: 'wide' }, { n: long(1) }], many), 400, 'OTSOutOfColumnCountLimit');
  });

  it('rejects cell timestamps outside the valid version range', async () => {
    const pk = [{ pk: 'ts' }, { n: long(1) }];
    await put('kv', pk, [{ a: 'ok', timestamp: clock.ms - 1000 }]);
    await expectError(put('kv', pk, [{ a: 'old', timestamp: clock.ms - 86400 * 1000 - 1 }]), 400, 'OTSParameterInvalid', 'timestamp');
    await expectError(put('kv', pk, [{ a: 'future', timestamp: clock.ms + 86400 * 1000 }]), 400, 'OTSParameterInvalid', 'timestamp');
  });

  it('supports BINARY primary keys', async () => {
    await put('bin', [{ b: Buffer.from([1, 2, 3]) }], [{ a: 'bin' }]);
    const { row } = await get('bin', [{ b: Buffer.from([1, 2, 3]) }]);
    expect(attrs(row)).toEqual({ a: 'bin' });
  });
});

describe('auto-increment primary keys', () => {
  it('returns the generated key with RT_PK: strictly increasing per partition, not consecutive, above 2^31', async () => {
    const seqs: bigint[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await client.putRow({
        tableName: 'timeline',
        condition: IGNORE(),
        primaryKey: [{ timeline_id: 'group:1' }, { seq_id: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ text: `m${i}` }],
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      });
      expect(r.row.primaryKey[0]).toEqual({ name: 'timeline_id', value: 'group:1' });
      seqs.push(big(r.row.primaryKey[1].value));
    }
    for (let i = 1; i < seqs.length; i++) {
      expect(seqs[i]! > seqs[i - 1]!).toBe(true);
      expect(seqs[i]! - seqs[i - 1]!).toBeGreaterThan(1n);
    }
    expect(seqs[0]! > 2n ** 31n).toBe(true);
    // Readable back by the exact key.
    const { row } = await get('timeline', [{ timeline_id: 'group:1' }, { seq_id: long(seqs[7]!) }]);
    expect(attrs(row)).toEqual({ text: 'm7' });
  });

  it('keeps up with the clock (microsecond-like values)', async () => {
    clock.advance(60_000);
    const r = await client.putRow({
      tableName: 'timeline',
      condition: IGNORE(),
      primaryKey: [{ timeline_id: 'clocked' }, { seq_id: TableStore.PK_AUTO_INCR }],
      attributeColumns: [{ text: 'x' }],
      returnContent: { returnType: TableStore.ReturnType.Primarykey },
    });
    expect(big(r.row.primaryKey[1].value) >= BigInt(clock.ms) * 1000n).toBe(true);
  });

  it('returns no row without RT_PK, and needs IGNORE with the placeholder', async () => {
    const r = await client.putRow({
      tableName: 'timeline',
      condition: IGNORE(),
      primaryKey: [{ timeline_id: 'norow' }, { seq_id: TableStore.PK_AUTO_INCR }],
      attributeColumns: [{ text: 'x' }],
    });
    expect(r.row).toEqual({});
    await expectError(
      client.putRow({
        tableName: 'timeline',
        condition: EXPECT_NOT_EXIST(),
        primaryKey: [{ timeline_id: 'norow' }, { seq_id: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ text: 'x' }],
      }),
      400,
      'OTSParameterInvalid',
      'IGNORE',
    );
  });
});

describe('UpdateRow / DeleteRow', () => {
  it('puts, deletes one version, deletes all versions, increments', async () => {
    const pk = [{ pk: 'upd' }, { n: long(1) }];
    await put('versions', pk, [{ keep: 'k' }, { gone: 'g' }, { counter: long(10) }]);
    const t1 = clock.ms - 5000;
    await client.updateRow({
      tableName: 'versions',
      condition: EXPECT_EXIST(),
      primaryKey: pk,
      updateOfAttributeColumns: [{ PUT: [{ keep: 'old', timestamp: t1 }, { added: 'a' }] }, { DELETE_ALL: ['gone'] }],
    });
    let row = (await get('versions', pk, { maxVersions: 10 })).row;
    expect(row.attributes.filter((c: { columnName: string }) => c.columnName === 'keep').map((c: { columnValue: unknown }) => c.columnValue)).toEqual(['k', 'old']);
    expect(attrs(row).gone).toBeUndefined();
    expect(attrs(row).added).toBe('a');
    await client.updateRow({ tableName: 'versions', condition: IGNORE(), primaryKey: pk, updateOfAttributeColumns: [{ DELETE: [{ keep: long(t1) }] }] });
    row = (await get('versions', pk, { maxVersions: 10 })).row;
    expect(row.attributes.filter((c: { columnName: string }) => c.columnName === 'keep')).toHaveLength(1);
    const inc = await client.updateRow({
      tableName: 'versions',
      condition: EXPECT_EXIST(),
      primaryKey: pk,
      updateOfAttributeColumns: [{ INCREMENT: [{ counter: long(5) }] }],
      returnContent: { returnType: TableStore.ReturnType.AfterModify, returnColumns: ['counter'] },
    });
    expect(big(attrs(inc.row).counter)).toBe(15n);
  });

  it('creates the row with IGNORE and checks EXPECT_EXIST', async () => {
    const pk = [{ pk: 'upd-new' }, { n: long(1) }];
    await expectError(
      client.updateRow({ tableName: 'kv', condition: EXPECT_EXIST(), primaryKey: pk, updateOfAttributeColumns: [{ PUT: [{ a: '1' }] }] }),
      403,
      'OTSConditionCheckFail',
    );
    await client.updateRow({ tableName: 'kv', condition: IGNORE(), primaryKey: pk, updateOfAttributeColumns: [{ PUT: [{ a: '1' }] }] });
    expect(attrs((await get('kv', pk)).row)).toEqual({ a: '1' });
  });

  it('deletes rows with conditions and RT_PK', async () => {
    const pk = [{ pk: 'del' }, { n: long(1) }];
    await expectError(client.deleteRow({ tableName: 'kv', condition: EXPECT_EXIST(), primaryKey: pk }), 403, 'OTSConditionCheckFail');
    await put('kv', pk, [{ a: '1' }]);
    const r = await client.deleteRow({ tableName: 'kv', condition: EXPECT_EXIST(), primaryKey: pk, returnContent: { returnType: TableStore.ReturnType.Primarykey } });
    expect(r.row.primaryKey[0]).toEqual({ name: 'pk', value: 'del' });
    expect((await get('kv', pk)).row).toEqual({});
    await client.deleteRow({ tableName: 'kv', condition: IGNORE(), primaryKey: pk });
  });
});

describe('TTL and max versions (injected clock)', () => {
  it('hides expired cells and rows without live cells', async () => {
    const a = [{ pk: 'ttl-a' }, { n: long(1) }];
    const b = [{ pk: 'ttl-b' }, { n: long(1) }];
    await put('ttl', a, [{ x: 'first' }]);
    clock.advance(43_200_000);
    await client.updateRow({ tableName: 'ttl', condition: IGNORE(), primaryKey: a, updateOfAttributeColumns: [{ PUT: [{ y: 'later' }] }] });
    await put('ttl', b, []);
    clock.advance(43_200_000);
    // x is exactly one day old: expired. y is half a day old.
    expect(attrs((await get('ttl', a)).row)).toEqual({ y: 'later' });
    expect((await get('ttl', b)).row.primaryKey).toHaveLength(2);
    expect(emu.stats().rows.ttl).toBe(2);
    clock.advance(43_200_000);
    expect((await get('ttl', a)).row).toEqual({});
    expect((await get('ttl', b)).row).toEqual({});
    expect(emu.stats().rows.ttl).toBe(0);
    // An expired row does not exist for conditions either.
    await client.putRow({ tableName: 'ttl', condition: EXPECT_NOT_EXIST(), primaryKey: a, attributeColumns: [{ z: 'again' }] });
  });

  it('keeps at most max_versions versions and honours max_versions and time_range on reads', async () => {
    const pk = [{ pk: 'mv' }, { n: long(1) }];
    const t = clock.ms;
    for (let i = 0; i < 5; i++) {
      await client.updateRow({ tableName: 'versions', condition: IGNORE(), primaryKey: pk, updateOfAttributeColumns: [{ PUT: [{ v: `v${i}`, timestamp: t - 10_000 + i }] }] });
    }
    const all = (await get('versions', pk, { maxVersions: 10 })).row.attributes;
    expect(all.map((c: { columnValue: unknown }) => c.columnValue)).toEqual(['v4', 'v3', 'v2']);
    expect((await get('versions', pk, { maxVersions: 1 })).row.attributes.map((c: { columnValue: unknown }) => c.columnValue)).toEqual(['v4']);
    const ranged = (await get('versions', pk, { maxVersions: 10, timeRange: { startTime: String(t - 10_000 + 2), endTime: String(t - 10_000 + 4) } })).row;
    expect(ranged.attributes.map((c: { columnValue: unknown }) => c.columnValue)).toEqual(['v3', 'v2']);
    await client.updateTable({ tableName: 'versions', tableOptions: { maxVersions: 1 } });
    expect((await get('versions', pk, { maxVersions: 10 })).row.attributes.map((c: { columnValue: unknown }) => c.columnValue)).toEqual(['v4']);
    await client.updateTable({ tableName: 'versions', tableOptions: { maxVersions: 3 } });
  });

  it('keeps a PutRow that names a column twice as two versions, and returns columns in name order', async () => {
    const pk = [{ pk: 'twice' }, { n: long(1) }];
    const t0 = clock.ms - 5000;
    await put('versions', pk, [{ zeta: 'z' }, { alpha: 'old', timestamp: t0 }, { alpha: 'new', timestamp: t0 + 1 }, { mid: 'm' }]);
    const row = (await get('versions', pk, { maxVersions: 10 })).row;
    const cells = row.attributes.map((c: { columnName: string; columnValue: unknown; timestamp: unknown }) => [c.columnName, c.columnValue, big(c.timestamp)]);
    expect(cells).toEqual([
      ['alpha', 'new', BigInt(t0 + 1)],
      ['alpha', 'old', BigInt(t0)],
      ['mid', 'm', BigInt(clock.ms)],
      ['zeta', 'z', BigInt(clock.ms)],
    ]);
  });
});
