import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { attrs, big, EXPECT_EXIST, EXPECT_NOT_EXIST, failure, IGNORE, long, pkParam, setup, tableParams, TableStore, TIMELINE_PK, type SdkClient } from './sdk.js';

let emu: Emulator;
let client: SdkClient;

beforeAll(async () => {
  ({ emu, client } = await setup());
  await client.createTable(tableParams('grid', [{ name: 'g', type: 'STRING' }, { name: 'i', type: 'INTEGER' }]));
  await client.createTable(tableParams('tl', TIMELINE_PK));
  await client.createTable(tableParams('other', [{ name: 'k', type: 'STRING' }]));
  // grid: g in a..c, i in 0..9
  const rows = [];
  for (const g of ['a', 'b', 'c']) for (let i = 0; i < 10; i++) rows.push({ type: 'PUT', condition: IGNORE(), primaryKey: [{ g }, { i: long(i) }], attributeColumns: [{ v: `${g}${i}` }] });
  await client.batchWriteRow({ tables: [{ tableName: 'grid', rows }] });
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

type Row = { primaryKey: { name: string; value: unknown }[]; attributes: { columnName: string; columnValue: unknown }[] };

async function scanAll(params: Record<string, unknown>): Promise<{ rows: Row[]; pages: number }> {
  const rows: Row[] = [];
  let pages = 0;
  let start = params.inclusiveStartPrimaryKey;
  for (;;) {
    const data = await client.getRange({ ...params, inclusiveStartPrimaryKey: start });
    pages++;
    rows.push(...data.rows);
    if (!data.nextStartPrimaryKey) return { rows, pages };
    start = pkParam(data.nextStartPrimaryKey);
  }
}

const values = (rows: Row[]): unknown[] => rows.map((r) => attrs(r).v);

describe('GetRange', () => {
  it('scans forward with INF_MIN/INF_MAX and pages with limit (the SDK sample)', async () => {
    const { rows, pages } = await scanAll({
      tableName: 'grid',
      direction: TableStore.Direction.FORWARD,
      maxVersions: 1,
      inclusiveStartPrimaryKey: [{ g: TableStore.INF_MIN }, { i: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ g: TableStore.INF_MAX }, { i: TableStore.INF_MAX }],
      limit: 7,
    });
    expect(rows).toHaveLength(30);
    expect(pages).toBe(5);
    expect(values(rows).slice(0, 12)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'b0', 'b1']);
  });

  it('is inclusive at the start and exclusive at the end, both directions', async () => {
    const fwd = await scanAll({
      tableName: 'grid',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ g: 'a' }, { i: long(8) }],
      exclusiveEndPrimaryKey: [{ g: 'b' }, { i: long(2) }],
    });
    expect(values(fwd.rows)).toEqual(['a8', 'a9', 'b0', 'b1']);
    const back = await scanAll({
      tableName: 'grid',
      direction: TableStore.Direction.BACKWARD,
      inclusiveStartPrimaryKey: [{ g: 'b' }, { i: long(2) }],
      exclusiveEndPrimaryKey: [{ g: 'a' }, { i: long(8) }],
      limit: 2,
    });
    expect(values(back.rows)).toEqual(['b2', 'b1', 'b0', 'a9']);
    expect(back.pages).toBe(2);
    const wholeB = await scanAll({
      tableName: 'grid',
      direction: TableStore.Direction.BACKWARD,
      inclusiveStartPrimaryKey: [{ g: 'b' }, { i: TableStore.INF_MAX }],
      exclusiveEndPrimaryKey: [{ g: 'b' }, { i: TableStore.INF_MIN }],
    });
    expect(values(wholeB.rows)).toEqual(['b9', 'b8', 'b7', 'b6', 'b5', 'b4', 'b3', 'b2', 'b1', 'b0']);
  });

  it('honours columns_to_get', async () => {
    const { rows } = await scanAll({
      tableName: 'grid',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ g: 'c' }, { i: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ g: 'c' }, { i: long(2) }],
      columnsToGet: ['v'],
    });
    expect(values(rows)).toEqual(['c0', 'c1']);
  });

  it('rejects bad ranges and limits', async () => {
    const base = { tableName: 'grid', direction: TableStore.Direction.FORWARD };
    await expectError(
      client.getRange({ ...base, inclusiveStartPrimaryKey: [{ g: 'b' }, { i: long(1) }], exclusiveEndPrimaryKey: [{ g: 'a' }, { i: long(1) }] }),
      400,
      'OTSParameterInvalid',
      'FORWARD',
    );
    await expectError(
      client.getRange({ ...base, inclusiveStartPrimaryKey: [{ g: 'a' }], exclusiveEndPrimaryKey: [{ g: 'b' }] }),
      400,
      'OTSInvalidPK',
    );
    await expectError(
      client.getRange({
        ...base,
        inclusiveStartPrimaryKey: [{ g: TableStore.INF_MIN }, { i: TableStore.INF_MIN }],
        exclusiveEndPrimaryKey: [{ g: TableStore.INF_MAX }, { i: TableStore.INF_MAX }],
        limit: -1,
      }),
      400,
      'OTSParameterInvalid',
    );
    await expectError(
      client.getRange({ ...base, tableName: 'missing', inclusiveStartPrimaryKey: [{ g: 'a' }], exclusiveEndPrimaryKey: [{ g: 'b' }] }),
      404,
      'OTSObjectNotExist',
    );
  });

  it('caps a page at 5000 rows', async () => {
    await client.createTable(tableParams('many', [{ name: 'k', type: 'INTEGER' }]));
    for (let b = 0; b < 26; b++) {
      const rows = Array.from({ length: 200 }, (_, j) => ({ type: 'PUT', condition: IGNORE(), primaryKey: [{ k: long(b * 200 + j) }], attributeColumns: [{ x: long(1) }] }));
      await client.batchWriteRow({ tables: [{ tableName: 'many', rows }] });
    }
    const first = await client.getRange({
      tableName: 'many',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ k: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }],
    });
    expect(first.rows).toHaveLength(5000);
    expect(big(first.nextStartPrimaryKey[0].value)).toBe(5000n);
    const second = await client.getRange({
      tableName: 'many',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: pkParam(first.nextStartPrimaryKey),
      exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }],
    });
    expect(second.rows).toHaveLength(200);
    expect(second.nextStartPrimaryKey).toBeNull();
    expect(emu.stats().rows.many).toBe(5200);
  });

  it('cuts a page at 4 MB on a row boundary', async () => {
    await client.createTable(tableParams('fat', [{ name: 'k', type: 'INTEGER' }]));
    const mb = 'm'.repeat(1024 * 1024);
    for (let k = 0; k < 6; k++) await client.putRow({ tableName: 'fat', condition: IGNORE(), primaryKey: [{ k: long(k) }], attributeColumns: [{ blob: mb }] });
    const { rows, pages } = await scanAll({
      tableName: 'fat',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ k: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ k: TableStore.INF_MAX }],
    });
    expect(rows).toHaveLength(6);
    expect(pages).toBe(2);
  });
});

describe('BatchWriteRow', () => {
  it('writes PUT/UPDATE/DELETE rows across tables with per-row results by position (the SDK sample)', async () => {
    await client.putRow({ tableName: 'other', condition: IGNORE(), primaryKey: [{ k: 'to-delete' }], attributeColumns: [{ a: '1' }] });
    const data = await client.batchWriteRow({
      tables: [
        {
          tableName: 'tl',
          rows: [
            {
              type: 'PUT',
              condition: IGNORE(),
              primaryKey: [{ timeline_id: 'g' }, { seq_id: TableStore.PK_AUTO_INCR }],
              attributeColumns: [{ text: 'one' }],
              returnContent: { returnType: TableStore.ReturnType.Primarykey },
            },
            {
              type: 'PUT',
              condition: IGNORE(),
              primaryKey: [{ timeline_id: 'g' }, { seq_id: TableStore.PK_AUTO_INCR }],
              attributeColumns: [{ text: 'two' }],
              returnContent: { returnType: TableStore.ReturnType.Primarykey },
            },
          ],
        },
        {
          tableName: 'other',
          rows: [
            { type: 'UPDATE', condition: IGNORE(), primaryKey: [{ k: 'u' }], attributeColumns: [{ PUT: [{ a: 'x' }, { b: 'y' }] }], returnContent: { returnType: 1 } },
            { type: 'DELETE', condition: EXPECT_EXIST(), primaryKey: [{ k: 'to-delete' }] },
            { type: 'PUT', condition: EXPECT_EXIST(), primaryKey: [{ k: 'not-there' }], attributeColumns: [{ a: '1' }] },
          ],
        },
      ],
    });
    const rows = data.tables as { isOk: boolean; errorCode: string | null; tableName: string; primaryKey: { name: string; value: unknown }[] | null }[];
    expect(rows.map((r) => [r.tableName, r.isOk])).toEqual([
      ['tl', true],
      ['tl', true],
      ['other', true],
      ['other', true],
      ['other', false],
    ]);
    expect(rows[4]!.errorCode).toBe('OTSConditionCheckFail');
    const s1 = big(rows[0]!.primaryKey![1]!.value);
    const s2 = big(rows[1]!.primaryKey![1]!.value);
    expect(s2 > s1).toBe(true);
    expect(rows[2]!.primaryKey).toEqual([{ name: 'k', value: 'u' }]);
    expect((await client.getRow({ tableName: 'other', primaryKey: [{ k: 'to-delete' }] })).row).toEqual({});
    expect(attrs((await client.getRow({ tableName: 'other', primaryKey: [{ k: 'u' }] })).row)).toEqual({ a: 'x', b: 'y' });
  });

  it('reports per-row schema errors without failing the batch', async () => {
    const data = await client.batchWriteRow({
      tables: [
        {
          tableName: 'other',
          rows: [
            { type: 'PUT', condition: IGNORE(), primaryKey: [{ wrong: 'x' }], attributeColumns: [{ a: '1' }] },
            { type: 'PUT', condition: EXPECT_NOT_EXIST(), primaryKey: [{ k: 'fresh' }], attributeColumns: [{ a: '1' }] },
          ],
        },
      ],
    });
    expect(data.tables.map((r: { isOk: boolean; errorCode: string | null }) => [r.isOk, r.errorCode])).toEqual([
      [false, 'OTSInvalidPK'],
      [true, null],
    ]);
  });

  it('fails as a whole for a missing table, a repeated key, more than 200 rows and size limits', async () => {
    const row = (k: string, extra: Record<string, unknown> = {}) => ({ type: 'PUT', condition: IGNORE(), primaryKey: [{ k }], attributeColumns: [{ a: '1' }], ...extra });
    await expectError(client.batchWriteRow({ tables: [{ tableName: 'other', rows: [row('w1')] }, { tableName: 'nope', rows: [row('x')] }] }), 404, 'OTSObjectNotExist');
    await expectError(client.batchWriteRow({ tables: [{ tableName: 'other', rows: [row('w2'), row('w2')] }] }), 400, 'OTSParameterInvalid', 'Duplicated primary key');
    const many = Array.from({ length: 201 }, (_, i) => row(`r${i}`));
    await expectError(client.batchWriteRow({ tables: [{ tableName: 'other', rows: many }] }), 400, 'OTSParameterInvalid', '200');
    await expectError(
      client.batchWriteRow({ tables: [{ tableName: 'other', rows: [row('w3'), row('w4', { attributeColumns: [{ a: 'x'.repeat(2 * 1024 * 1024 + 1) }] })] }] }),
      400,
      'OTSParameterInvalid',
      'MaxLength',
    );
    // Nothing of a failed batch is applied.
    for (const k of ['w1', 'w2', 'w3']) expect((await client.getRow({ tableName: 'other', primaryKey: [{ k }] })).row).toEqual({});
    // Exactly 200 rows is fine; auto-increment rows never collide with each other.
    const tl = Array.from({ length: 200 }, () => ({
      type: 'PUT',
      condition: IGNORE(),
      primaryKey: [{ timeline_id: 'bulk' }, { seq_id: TableStore.PK_AUTO_INCR }],
      attributeColumns: [{ a: '1' }],
      returnContent: { returnType: TableStore.ReturnType.Primarykey },
    }));
    const ok = await client.batchWriteRow({ tables: [{ tableName: 'tl', rows: tl }] });
    const seqs = ok.tables.map((r: { primaryKey: { value: unknown }[] }) => big(r.primaryKey[1]!.value));
    expect(new Set(seqs.map(String)).size).toBe(200);
    expect([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(seqs);
  });
});

describe('BatchGetRow', () => {
  it('reads rows of several tables, missing rows included (the SDK sample)', async () => {
    const data = await client.batchGetRow({
      tables: [
        { tableName: 'grid', primaryKey: [[{ g: 'a' }, { i: long(1) }], [{ g: 'z' }, { i: long(1) }], [{ g: 'c' }, { i: long(9) }]] },
        { tableName: 'other', primaryKey: [[{ k: 'u' }]], columnsToGet: ['b'] },
      ],
    });
    expect(data.tables).toHaveLength(2);
    const [grid, other] = data.tables as { isOk: boolean; tableName: string; attributes: Row['attributes'] | null; primaryKey: unknown }[][];
    expect(grid!.map((r) => r.isOk)).toEqual([true, true, true]);
    expect(grid!.map((r) => (r.attributes ? attrs(r as unknown as Row).v : null))).toEqual(['a1', null, 'c9']);
    expect(attrs(other![0] as unknown as Row)).toEqual({ b: 'y' });
  });

  it('rejects more than 100 rows and missing tables as a whole', async () => {
    const keys = Array.from({ length: 101 }, (_, i) => [{ k: `k${i}` }]);
    await expectError(client.batchGetRow({ tables: [{ tableName: 'other', primaryKey: keys }] }), 400, 'OTSParameterInvalid', '100');
    await expectError(client.batchGetRow({ tables: [{ tableName: 'nope', primaryKey: [[{ k: 'a' }]] }] }), 404, 'OTSObjectNotExist');
  });
});
