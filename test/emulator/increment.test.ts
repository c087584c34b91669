/**
 * Atomic counters: INCREMENT in UpdateRow and BatchWriteRow, with ReturnType.AfterModify, through the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { attrs, big, failure, IGNORE, long, setup, tableParams, TableStore, type SdkClient } from './sdk.js';

let emu: Emulator;
let client: SdkClient;

beforeAll(async () => {
  ({ emu, client } = await setup());
  await client.createTable(tableParams('counters', [{ name: 'id', type: 'STRING' }], { timeToLive: -1, maxVersions: 2 }));
});
afterAll(async () => {
  await emu.close();
});

const AFTER = TableStore.ReturnType.AfterModify;

const increment = (id: string, columns: Record<string, unknown>[], returnColumns?: string[], extra: unknown[] = []) =>
  client.updateRow({
    tableName: 'counters',
    condition: IGNORE(),
    primaryKey: [{ id }],
    updateOfAttributeColumns: [{ INCREMENT: columns }, ...extra],
    ...(returnColumns ? { returnContent: { returnType: AFTER, returnColumns } } : {}),
  });

async function expectError(p: Promise<unknown>, status: number, code: string, text: string): Promise<void> {
  const err = await failure(p);
  expect(err.code).toBe(status);
  expect(err.message).toContain(code);
  expect(err.message).toContain(text);
}

describe('INCREMENT in UpdateRow', () => {
  it('starts a missing column at 0 and returns the new values with AfterModify', async () => {
    const first = await increment('a', [{ unread: long(3) }], ['unread']);
    expect(first.row.primaryKey).toEqual([{ name: 'id', value: 'a' }]);
    expect(first.row.attributes).toHaveLength(1);
    expect(first.row.attributes[0].columnName).toBe('unread');
    expect(big(first.row.attributes[0].columnValue)).toBe(3n);
    expect(typeof Number(first.row.attributes[0].timestamp)).toBe('number');
    const second = await increment('a', [{ unread: long(-5) }, { total: long(7) }], ['total', 'unread']);
    expect(Object.fromEntries(Object.entries(attrs(second.row)).map(([k, v]) => [k, big(v)]))).toEqual({ total: 7n, unread: -2n });
    expect(big(attrs((await client.getRow({ tableName: 'counters', primaryKey: [{ id: 'a' }], maxVersions: 1 })).row).unread)).toBe(-2n);
  });

  it('returns nothing without a return type, and only the named columns with one', async () => {
    const none = await increment('b', [{ n: long(1) }]);
    expect(none.row).toEqual({});
    const named = await increment('b', [{ n: long(1) }, { m: long(1) }], ['m']);
    expect(Object.keys(attrs(named.row))).toEqual(['m']);
  });

  it('keeps 64-bit values exact and rejects an overflow without writing', async () => {
    await increment('big', [{ n: long('9223372036854775806') }]);
    const r = await increment('big', [{ n: long(1) }], ['n']);
    expect(big(attrs(r.row).n)).toBe(9223372036854775807n);
    await expectError(increment('big', [{ n: long(1) }]), 400, 'OTSParameterInvalid', 'overflows');
    expect(big(attrs((await client.getRow({ tableName: 'counters', primaryKey: [{ id: 'big' }], maxVersions: 1 })).row).n)).toBe(9223372036854775807n);
  });

  it('rejects a non-INTEGER counter column and a non-INTEGER delta', async () => {
    await client.putRow({ tableName: 'counters', condition: IGNORE(), primaryKey: [{ id: 's' }], attributeColumns: [{ name: 'text' }] });
    await expectError(increment('s', [{ name: long(1) }]), 400, 'OTSParameterInvalid', 'not an INTEGER');
    await expectError(increment('s', [{ other: 1.5 }]), 400, 'OTSParameterInvalid', 'needs an INTEGER value');
  });

  it('rejects another change of the incremented column in the same request', async () => {
    await expectError(increment('c', [{ n: long(1) }], undefined, [{ PUT: [{ n: long(5) }] }]), 400, 'OTSParameterInvalid', 'atomic counter');
    await expectError(increment('c', [{ n: long(1) }], undefined, [{ DELETE_ALL: ['n'] }]), 400, 'OTSParameterInvalid', 'atomic counter');
    await expectError(increment('c', [{ n: long(1) }, { n: long(2) }]), 400, 'OTSParameterInvalid', 'atomic counter');
    // Other columns of the row may change together with the counter.
    const ok = await increment('c', [{ n: long(1) }], ['n', 'label'], [{ PUT: [{ label: 'x' }] }]);
    expect(attrs(ok.row)).toEqual({ label: 'x', n: expect.anything() });
  });
});

describe('INCREMENT in BatchWriteRow', () => {
  it('increments per row and returns each row’s new values by position', async () => {
    await increment('q1', [{ n: long(10) }]);
    const data = await client.batchWriteRow({
      tables: [
        {
          tableName: 'counters',
          rows: [
            { type: 'UPDATE', condition: IGNORE(), primaryKey: [{ id: 'q1' }], attributeColumns: [{ INCREMENT: [{ n: long(5) }] }], returnContent: { returnType: AFTER, returnColumns: ['n'] } },
            { type: 'UPDATE', condition: IGNORE(), primaryKey: [{ id: 'q2' }], attributeColumns: [{ INCREMENT: [{ n: long(-1) }] }], returnContent: { returnType: AFTER, returnColumns: ['n'] } },
            { type: 'UPDATE', condition: IGNORE(), primaryKey: [{ id: 'q3' }], attributeColumns: [{ INCREMENT: [{ n: long(1) }] }, { PUT: [{ n: long(1) }] }] },
          ],
        },
      ],
    });
    const rows = data.tables as { isOk: boolean; errorCode: string | null; attributes: { columnName: string; columnValue: unknown }[] | null }[];
    expect(rows.map((r) => [r.isOk, r.errorCode])).toEqual([
      [true, null],
      [true, null],
      [false, 'OTSParameterInvalid'],
    ]);
    expect(big(rows[0]!.attributes![0]!.columnValue)).toBe(15n);
    expect(big(rows[1]!.attributes![0]!.columnValue)).toBe(-1n);
    expect((await client.getRow({ tableName: 'counters', primaryKey: [{ id: 'q3' }], maxVersions: 1 })).row).toEqual({});
  });
});
