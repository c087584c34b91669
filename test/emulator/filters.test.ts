/**
 * Read filters (GetRow, BatchGetRow, GetRange with paging) and ColumnPaginationFilter, through the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { attrs, big, failure, IGNORE, long, pkParam, setup, tableParams, TableStore, type SdkClient } from './sdk.js';

let emu: Emulator;
let client: SdkClient;

const C = TableStore.ComparatorType;
const single = (name: string, value: unknown, comparator: number, passIfMissing = true) => new TableStore.SingleColumnCondition(name, value, comparator, passIfMissing, true);
type Row = { primaryKey: { name: string; value: unknown }[]; attributes: { columnName: string; columnValue: unknown }[] };

beforeAll(async () => {
  ({ emu, client } = await setup());
  await client.createTable(tableParams('msgs', [{ name: 'k', type: 'INTEGER' }]));
  // 30 rows: k = 0..29, kind alternates 'text' / 'recalled', every fifth row has no 'kind'.
  const rows = Array.from({ length: 30 }, (_, k) => ({
    type: 'PUT',
    condition: IGNORE(),
    primaryKey: [{ k: long(k) }],
    attributeColumns: k % 5 === 4 ? [{ a: long(k) }, { body: `m${k}` }] : [{ a: long(k) }, { body: `m${k}` }, { kind: k % 2 === 0 ? 'text' : 'recalled' }],
  }));
  await client.batchWriteRow({ tables: [{ tableName: 'msgs', rows }] });
});
afterAll(async () => {
  await emu.close();
});

const range = (extra: Record<string, unknown> = {}) =>
  client.getRange({
    tableName: 'msgs',
    direction: TableStore.Direction.FORWARD,
    inclusiveStartPrimaryKey: [{ k: TableStore.INF_MIN }],
    exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }],
    maxVersions: 1,
    ...extra,
  });

async function allPages(extra: Record<string, unknown>): Promise<{ keys: bigint[]; pages: number; sizes: number[] }> {
  const keys: bigint[] = [];
  const sizes: number[] = [];
  let start: unknown[] = [{ k: TableStore.INF_MIN }];
  for (let pages = 1; pages <= 100; pages++) {
    const data = await range({ ...extra, inclusiveStartPrimaryKey: start });
    sizes.push(data.rows.length);
    keys.push(...(data.rows as Row[]).map((r) => big(r.primaryKey[0]!.value)));
    if (!data.nextStartPrimaryKey) return { keys, pages, sizes };
    start = pkParam(data.nextStartPrimaryKey);
  }
  throw new Error('more than 100 pages');
}

describe('filters on GetRow and BatchGetRow', () => {
  it('returns the row only when it passes the filter', async () => {
    const get = (k: number, columnFilter: unknown) => client.getRow({ tableName: 'msgs', primaryKey: [{ k: long(k) }], maxVersions: 1, columnFilter });
    expect(attrs((await get(2, single('kind', 'text', C.EQUAL))).row).body).toBe('m2');
    expect((await get(3, single('kind', 'text', C.EQUAL))).row).toEqual({});
    expect(attrs((await get(4, single('kind', 'text', C.EQUAL, true))).row).body).toBe('m4');
    expect((await get(4, single('kind', 'text', C.EQUAL, false))).row).toEqual({});
    const both = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
    both.addSubCondition(single('a', long(10), C.GREATER_THAN));
    both.addSubCondition(single('kind', 'recalled', C.NOT_EQUAL, false));
    expect(attrs((await get(12, both)).row).body).toBe('m12');
    expect((await get(8, both)).row).toEqual({});
  });

  it('sees a column left out of columnsToGet as missing', async () => {
    const r = await client.getRow({ tableName: 'msgs', primaryKey: [{ k: long(3) }], maxVersions: 1, columnsToGet: ['body'], columnFilter: single('kind', 'text', C.EQUAL, true) });
    expect(attrs(r.row)).toEqual({ body: 'm3' });
    const strict = await client.getRow({ tableName: 'msgs', primaryKey: [{ k: long(2) }], maxVersions: 1, columnsToGet: ['body'], columnFilter: single('kind', 'text', C.EQUAL, false) });
    expect(strict.row).toEqual({});
  });

  it('filters BatchGetRow rows per table; a filtered-out row is ok with no columns', async () => {
    const data = await client.batchGetRow({
      tables: [{ tableName: 'msgs', primaryKey: [[{ k: long(0) }], [{ k: long(1) }], [{ k: long(99) }]], maxVersions: 1, columnFilter: single('kind', 'text', C.EQUAL, false) }],
    });
    const rows = data.tables[0] as { isOk: boolean; attributes: unknown[] | null; primaryKey: unknown }[];
    expect(rows.map((r) => r.isOk)).toEqual([true, true, true]);
    expect(attrs(rows[0] as never).body).toBe('m0');
    expect(rows[1]!.primaryKey).toBeNull();
    expect(rows[2]!.primaryKey).toBeNull();
  });

  it('rejects a filter on a primary-key column and a bad filter message', async () => {
    const err = await failure(client.getRow({ tableName: 'msgs', primaryKey: [{ k: long(1) }], maxVersions: 1, columnFilter: single('k', long(1), C.EQUAL) }));
    expect(err.code).toBe(400);
    expect(err.message).toContain("primary key column: 'k'");
  });
});

describe('filters on GetRange', () => {
  it('skips rows that fail the filter, across pages, with short pages and a next key', async () => {
    const filter = single('kind', 'text', C.EQUAL, false);
    const expected = Array.from({ length: 30 }, (_, k) => k).filter((k) => k % 5 !== 4 && k % 2 === 0).map(BigInt);
    const one = await allPages({ columnFilter: filter });
    expect(one.keys).toEqual(expected);
    expect(one.pages).toBe(1);
    const paged = await allPages({ columnFilter: filter, limit: 4 });
    expect(paged.keys).toEqual(expected);
    expect(paged.sizes.slice(0, -1).every((n) => n === 4)).toBe(true);
    const back = await client.getRange({
      tableName: 'msgs',
      direction: TableStore.Direction.BACKWARD,
      inclusiveStartPrimaryKey: [{ k: TableStore.INF_MAX }],
      exclusiveEndPrimaryKey: [{ k: TableStore.INF_MIN }],
      maxVersions: 1,
      columnFilter: filter,
    });
    expect((back.rows as Row[]).map((r) => big(r.primaryKey[0]!.value))).toEqual([...expected].reverse());
  });

  it('returns an empty page with a next key when 5000 scanned rows all fail the filter', async () => {
    await client.createTable(tableParams('wide', [{ name: 'k', type: 'INTEGER' }]));
    for (let b = 0; b < 26; b++) {
      const rows = Array.from({ length: 200 }, (_, j) => ({ type: 'PUT', condition: IGNORE(), primaryKey: [{ k: long(b * 200 + j) }], attributeColumns: [{ x: long(b * 200 + j) }] }));
      await client.batchWriteRow({ tables: [{ tableName: 'wide', rows }] });
    }
    const params = {
      tableName: 'wide',
      direction: TableStore.Direction.FORWARD,
      exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }],
      maxVersions: 1,
      columnFilter: single('x', long(5100), C.GREATER_EQUAL, false),
    };
    const first = await client.getRange({ ...params, inclusiveStartPrimaryKey: [{ k: TableStore.INF_MIN }] });
    expect(first.rows).toHaveLength(0);
    expect(big(first.nextStartPrimaryKey[0].value)).toBe(5000n);
    const second = await client.getRange({ ...params, inclusiveStartPrimaryKey: pkParam(first.nextStartPrimaryKey) });
    expect((second.rows as Row[]).map((r) => big(r.primaryKey[0]!.value))).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(5100 + i)));
    expect(second.nextStartPrimaryKey).toBeNull();
  });
});

describe('ColumnPaginationFilter', () => {
  beforeAll(async () => {
    const cols = Array.from({ length: 6 }, (_, i) => ({ [`c${i}`]: long(i) }));
    await client.putRow({ tableName: 'msgs', condition: IGNORE(), primaryKey: [{ k: long(100) }], attributeColumns: cols });
  });

  it('returns columns [offset, offset + limit) in name order on GetRow', async () => {
    const get = (limit: number, offset: number) =>
      client.getRow({ tableName: 'msgs', primaryKey: [{ k: long(100) }], maxVersions: 1, columnFilter: new TableStore.ColumnPaginationFilter(limit, offset) });
    expect(Object.keys(attrs((await get(2, 1)).row))).toEqual(['c1', 'c2']);
    expect(Object.keys(attrs((await get(10, 4)).row))).toEqual(['c4', 'c5']);
    const past = (await get(2, 6)).row;
    expect(past.primaryKey).toEqual([{ name: 'k', value: expect.anything() }]);
    expect(past.attributes).toEqual([]);
  });

  it('applies per row on GetRange and validates offset and limit', async () => {
    const data = await range({ columnFilter: new TableStore.ColumnPaginationFilter(1, 0), limit: 3 });
    expect((data.rows as Row[]).map((r) => Object.keys(attrs(r)))).toEqual([['a'], ['a'], ['a']]);
    const err = await failure(range({ columnFilter: new TableStore.ColumnPaginationFilter(0, 0) }));
    expect(err.code).toBe(400);
    expect(err.message).toContain('limit of the ColumnPaginationFilter');
  });
});
