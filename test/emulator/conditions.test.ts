/**
 * Column conditions on writes (PutRow, UpdateRow, DeleteRow, BatchWriteRow rows), through the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { attrs, failure, IGNORE, long, setup, tableParams, TableStore, type SdkClient } from './sdk.js';

let emu: Emulator;
let client: SdkClient;

const KV = [{ name: 'pk', type: 'STRING' }];
const C = TableStore.ComparatorType;
const E = TableStore.RowExistenceExpectation;

beforeAll(async () => {
  ({ emu, client } = await setup());
  await client.createTable(tableParams('kv', KV));
  await client.createTable(tableParams('mv', KV, { timeToLive: -1, maxVersions: 3 }));
});
afterAll(async () => {
  await emu.close();
});

const single = (name: string, value: unknown, comparator: number, passIfMissing = true, latestVersionOnly = true) =>
  new TableStore.SingleColumnCondition(name, value, comparator, passIfMissing, latestVersionOnly);
const composite = (op: number, ...subs: unknown[]) => {
  const c = new TableStore.CompositeCondition(op);
  for (const s of subs) c.addSubCondition(s);
  return c;
};
const cond = (columnCondition: unknown, existence: number = E.IGNORE) => new TableStore.Condition(existence, columnCondition);

async function expectError(p: Promise<unknown>, status: number, code: string, text?: string): Promise<void> {
  const err = await failure(p);
  expect(err.code).toBe(status);
  expect(err.message).toContain(code);
  if (text !== undefined) expect(err.message).toContain(text);
}

/** `true` when an UpdateRow guarded by `columnCondition` applies, `false` when it fails the check. */
async function passes(key: string, columnCondition: unknown, existence: number = E.IGNORE, table = 'kv'): Promise<boolean> {
  try {
    await client.updateRow({ tableName: table, condition: cond(columnCondition, existence), primaryKey: [{ pk: key }], updateOfAttributeColumns: [{ PUT: [{ touched: 'yes' }] }] });
    return true;
  } catch (e) {
    const err = e as { code: unknown; message: string };
    if (err.code === 403 && String(err.message).includes('OTSConditionCheckFail')) return false;
    throw e;
  }
}

describe('SingleColumnCondition on UpdateRow', () => {
  beforeAll(async () => {
    await client.putRow({ tableName: 'kv', condition: IGNORE(), primaryKey: [{ pk: 'r' }], attributeColumns: [{ n: long(5) }, { s: 'mé' }, { d: 2.5 }, { b: true }, { bin: Buffer.from([1, 2]) }] });
  });

  it.each([
    ['EQUAL', C.EQUAL, [false, true, false]],
    ['NOT_EQUAL', C.NOT_EQUAL, [true, false, true]],
    ['GREATER_THAN', C.GREATER_THAN, [true, false, false]],
    ['GREATER_EQUAL', C.GREATER_EQUAL, [true, true, false]],
    ['LESS_THAN', C.LESS_THAN, [false, false, true]],
    ['LESS_EQUAL', C.LESS_EQUAL, [false, true, true]],
  ] as const)('%s compares INTEGER values exactly (4, 5, 6 against 5)', async (_name, comparator, expected) => {
    const got = [];
    for (const operand of [4, 5, 6]) got.push(await passes('r', single('n', long(operand), comparator)));
    expect(got).toEqual(expected);
  });

  it('compares STRING as UTF-8 bytes, DOUBLE, BOOLEAN and BINARY by value', async () => {
    expect(await passes('r', single('s', 'mz', C.GREATER_THAN))).toBe(true); // 'é' (0xC3..) sorts above 'z' in UTF-8
    expect(await passes('r', single('d', 2.5, C.EQUAL))).toBe(true);
    expect(await passes('r', single('d', 3, C.LESS_THAN))).toBe(true);
    expect(await passes('r', single('b', true, C.EQUAL))).toBe(true);
    expect(await passes('r', single('b', false, C.GREATER_THAN))).toBe(true);
    expect(await passes('r', single('bin', Buffer.from([1, 3]), C.LESS_THAN))).toBe(true);
  });

  it('never matches a value of another type (an INTEGER column against a DOUBLE operand)', async () => {
    expect(await passes('r', single('n', 5, C.EQUAL))).toBe(false);
    expect(await passes('r', single('n', 5, C.NOT_EQUAL))).toBe(false);
  });

  it('passIfMissing decides for a missing column and a missing row', async () => {
    expect(await passes('r', single('absent', long(1), C.EQUAL, true))).toBe(true);
    expect(await passes('r', single('absent', long(1), C.EQUAL, false))).toBe(false);
    expect(await passes('nobody', single('n', long(1), C.EQUAL, false))).toBe(false);
    expect((await client.getRow({ tableName: 'kv', primaryKey: [{ pk: 'nobody' }] })).row).toEqual({});
    expect(await passes('nobody', single('n', long(1), C.EQUAL, true), E.EXPECT_NOT_EXIST)).toBe(true);
  });

  it('checks the row existence first, then the column condition', async () => {
    expect(await passes('ghost', single('n', long(1), C.EQUAL, true), E.EXPECT_EXIST)).toBe(false);
    expect(await passes('r', single('n', long(5), C.EQUAL), E.EXPECT_NOT_EXIST)).toBe(false);
    expect(await passes('r', single('n', long(5), C.EQUAL), E.EXPECT_EXIST)).toBe(true);
  });

  it('latestVersionOnly: false matches any kept version', async () => {
    const t = Date.UTC(2025, 0, 1);
    await client.putRow({ tableName: 'mv', condition: IGNORE(), primaryKey: [{ pk: 'v' }], attributeColumns: [{ st: 'old', timestamp: t - 2000 }, { st: 'new', timestamp: t - 1000 }] });
    expect(await passes('v', single('st', 'old', C.EQUAL, false, true), E.IGNORE, 'mv')).toBe(false);
    expect(await passes('v', single('st', 'old', C.EQUAL, false, false), E.IGNORE, 'mv')).toBe(true);
    expect(await passes('v', single('st', 'new', C.EQUAL, false, true), E.IGNORE, 'mv')).toBe(true);
  });
});

describe('CompositeCondition', () => {
  beforeAll(async () => {
    await client.putRow({ tableName: 'kv', condition: IGNORE(), primaryKey: [{ pk: 'c' }], attributeColumns: [{ a: long(1) }, { b: long(2) }] });
  });

  it('combines with AND, OR and NOT, nested', async () => {
    const a1 = single('a', long(1), C.EQUAL);
    const a2 = single('a', long(2), C.EQUAL);
    const b2 = single('b', long(2), C.EQUAL);
    const { AND, OR, NOT } = TableStore.LogicalOperator;
    expect(await passes('c', composite(AND, a1, b2))).toBe(true);
    expect(await passes('c', composite(AND, a2, b2))).toBe(false);
    expect(await passes('c', composite(OR, a2, b2))).toBe(true);
    expect(await passes('c', composite(OR, a2, single('b', long(3), C.EQUAL)))).toBe(false);
    expect(await passes('c', composite(NOT, a2))).toBe(true);
    expect(await passes('c', composite(NOT, a1))).toBe(false);
    // NOT (a = 2 OR (a = 1 AND NOT b = 2))  ==  NOT (false OR (true AND false))  ==  true
    expect(await passes('c', composite(NOT, composite(OR, a2, composite(AND, a1, composite(NOT, b2)))))).toBe(true);
    expect(await passes('c', composite(AND, a1, composite(OR, a2, composite(NOT, b2))))).toBe(false);
  });
});

describe('conditions on PutRow, DeleteRow and BatchWriteRow', () => {
  it('guards PutRow and DeleteRow, and a failed check writes nothing', async () => {
    const pk = [{ pk: 'pd' }];
    await client.putRow({ tableName: 'kv', condition: IGNORE(), primaryKey: pk, attributeColumns: [{ state: 'draft' }] });
    await expectError(
      client.putRow({ tableName: 'kv', condition: cond(single('state', 'sent', C.EQUAL), E.EXPECT_EXIST), primaryKey: pk, attributeColumns: [{ state: 'recalled' }] }),
      403,
      'OTSConditionCheckFail',
      'Condition check failed',
    );
    expect(attrs((await client.getRow({ tableName: 'kv', primaryKey: pk })).row)).toEqual({ state: 'draft' });
    await client.putRow({ tableName: 'kv', condition: cond(single('state', 'draft', C.EQUAL), E.EXPECT_EXIST), primaryKey: pk, attributeColumns: [{ state: 'sent' }] });
    await expectError(client.deleteRow({ tableName: 'kv', condition: cond(single('state', 'draft', C.EQUAL)), primaryKey: pk }), 403, 'OTSConditionCheckFail');
    await client.deleteRow({ tableName: 'kv', condition: cond(single('state', 'sent', C.EQUAL)), primaryKey: pk });
    expect((await client.getRow({ tableName: 'kv', primaryKey: pk })).row).toEqual({});
  });

  it('fails just the rows of a BatchWriteRow whose condition fails', async () => {
    await client.putRow({ tableName: 'kv', condition: IGNORE(), primaryKey: [{ pk: 'b1' }], attributeColumns: [{ v: long(1) }] });
    await client.putRow({ tableName: 'kv', condition: IGNORE(), primaryKey: [{ pk: 'b2' }], attributeColumns: [{ v: long(2) }] });
    await client.putRow({ tableName: 'kv', condition: IGNORE(), primaryKey: [{ pk: 'b4' }], attributeColumns: [{ v: long(4) }] });
    const guard = (v: number) => cond(single('v', long(v), C.EQUAL, false));
    const data = await client.batchWriteRow({
      tables: [
        {
          tableName: 'kv',
          rows: [
            { type: 'UPDATE', condition: guard(1), primaryKey: [{ pk: 'b1' }], attributeColumns: [{ PUT: [{ v: long(10) }] }] },
            { type: 'UPDATE', condition: guard(1), primaryKey: [{ pk: 'b2' }], attributeColumns: [{ PUT: [{ v: long(20) }] }] },
            { type: 'PUT', condition: guard(3), primaryKey: [{ pk: 'b3' }], attributeColumns: [{ v: long(3) }] },
            { type: 'DELETE', condition: guard(4), primaryKey: [{ pk: 'b4' }] },
          ],
        },
      ],
    });
    const rows = data.tables as { isOk: boolean; errorCode: string | null; errorMessage: string | null }[];
    expect(rows.map((r) => [r.isOk, r.errorCode])).toEqual([
      [true, null],
      [false, 'OTSConditionCheckFail'],
      [false, 'OTSConditionCheckFail'],
      [true, null],
    ]);
    expect(rows[1]!.errorMessage).toBe('Condition check failed.');
    expect(attrs((await client.getRow({ tableName: 'kv', primaryKey: [{ pk: 'b1' }] })).row)).toEqual({ v: long(10) });
    expect(attrs((await client.getRow({ tableName: 'kv', primaryKey: [{ pk: 'b2' }] })).row)).toEqual({ v: long(2) });
    expect((await client.getRow({ tableName: 'kv', primaryKey: [{ pk: 'b3' }] })).row).toEqual({});
    expect((await client.getRow({ tableName: 'kv', primaryKey: [{ pk: 'b4' }] })).row).toEqual({});
  });
});

describe('validation', () => {
  const pk = [{ pk: 'val' }];
  const update = (columnCondition: unknown) =>
    client.updateRow({ tableName: 'kv', condition: cond(columnCondition), primaryKey: pk, updateOfAttributeColumns: [{ PUT: [{ a: '1' }] }] });

  it('rejects an unknown comparator', async () => {
    const bad = single('a', '1', C.EQUAL);
    bad.comparator = 9; // the SDK checks in the constructor only
    await expectError(update(bad), 400, 'OTSParameterInvalid', 'Invalid comparator type: 9');
  });

  it('rejects an unknown logical operator and a wrong number of operands', async () => {
    const bad = composite(TableStore.LogicalOperator.AND, single('a', '1', C.EQUAL), single('b', '1', C.EQUAL));
    bad.combinator = 7;
    await expectError(update(bad), 400, 'OTSParameterInvalid', 'Invalid logical operator: 7');
    await expectError(update(composite(TableStore.LogicalOperator.NOT, single('a', '1', C.EQUAL), single('b', '1', C.EQUAL))), 400, 'OTSParameterInvalid', 'NOT takes exactly one');
    await expectError(update(composite(TableStore.LogicalOperator.AND, single('a', '1', C.EQUAL))), 400, 'OTSParameterInvalid', 'AND takes at least two');
  });

  it('rejects a condition on a primary-key column', async () => {
    await expectError(update(single('pk', 'val', C.EQUAL)), 400, 'OTSParameterInvalid', "primary key column: 'pk'");
  });

  it('rejects more than 10 conditions and a ColumnPaginationFilter as a write condition', async () => {
    const eleven = composite(TableStore.LogicalOperator.OR, ...Array.from({ length: 11 }, (_, i) => single(`c${i}`, '1', C.EQUAL)));
    await expectError(update(eleven), 400, 'OTSParameterInvalid', 'exceeds the limit: 10');
    const ten = composite(TableStore.LogicalOperator.OR, ...Array.from({ length: 10 }, (_, i) => single(`c${i}`, '1', C.EQUAL)));
    await update(ten); // every column is missing and passIfMissing is true
    await expectError(update(new TableStore.ColumnPaginationFilter(1, 0)), 400, 'OTSParameterInvalid', 'ColumnPaginationFilter');
  });

  it('rejects a bad condition per row inside a batch', async () => {
    const data = await client.batchWriteRow({
      tables: [
        {
          tableName: 'kv',
          rows: [
            { type: 'PUT', condition: cond(single('pk', 'x', C.EQUAL)), primaryKey: [{ pk: 'bv1' }], attributeColumns: [{ a: '1' }] },
            { type: 'PUT', condition: IGNORE(), primaryKey: [{ pk: 'bv2' }], attributeColumns: [{ a: '1' }] },
          ],
        },
      ],
    });
    expect(data.tables.map((r: { isOk: boolean; errorCode: string | null }) => [r.isOk, r.errorCode])).toEqual([
      [false, 'OTSParameterInvalid'],
      [true, null],
    ]);
  });
});
