/**
 * Differential test of request encoding: every body the codec produces must equal, byte for
 * byte, the body the official SDK's encoder produces from the same params.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SdkOperation } from '../../src/codec/index.js';
import { long, TableStore } from '../emulator/sdk.js';
import { codec, sdkEncode } from './sdk-oracle.js';

const T = TableStore;
const C = (e: number, cc: unknown = null): unknown => new T.Condition(e, cc);
const IGNORE = T.RowExistenceExpectation.IGNORE;

function same(op: SdkOperation, params: Record<string, unknown>): void {
  const expected = sdkEncode(op, params);
  const got = codec.encodeRequest(op, params);
  expect(got.toString('hex')).toBe(expected.toString('hex'));
}

const single = (name: string, value: unknown, cmp = T.ComparatorType.EQUAL, pass?: boolean, latest?: boolean): unknown =>
  new T.SingleColumnCondition(name, value, cmp, pass, latest);

function composite(op: number, ...subs: unknown[]): unknown {
  const c = new T.CompositeCondition(op);
  for (const s of subs) c.addSubCondition(s);
  return c;
}

const binaryId = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
const everyType = [
  { s: 'text' },
  { u: 'ünïcødé ✓ 😀' },
  { i: long('-9223372036854775808') },
  { i2: long('9223372036854775807') },
  { d: 3.25 },
  { d2: -0 },
  { n: NaN },
  { b: true },
  { f: false },
  { bin: binaryId },
  { empty: '' },
  { emptyBin: Buffer.alloc(0) },
];

/** Fixed corpus: every operation and the edge cases of each. */
const corpus: [string, SdkOperation, () => Record<string, unknown>][] = [
  ['createTable', 'createTable', () => ({
    tableMeta: { tableName: 't', primaryKey: [{ name: 'id', type: 'STRING' }, { name: 'seq', type: 'INTEGER', option: 'AUTO_INCREMENT' }, { name: 'b', type: 'BINARY' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1, maxTimeDeviation: 86400 },
  })],
  ['createTable with stream, defined columns, index', 'createTable', () => ({
    tableMeta: { tableName: 't2', primaryKey: [{ name: 'id', type: 'STRING' }], definedColumn: [{ name: 'c', type: 4 }] },
    reservedThroughput: { capacityUnit: { read: 1, write: 2 } },
    tableOptions: { timeToLive: 3600, maxVersions: 3, allowUpdate: false },
    streamSpecification: { enableStream: true, expirationTime: 24 },
    indexMetas: [{ name: 'ix', primaryKey: ['c'], definedColumn: [] }],
  })],
  ['updateTable', 'updateTable', () => ({ tableName: 't', tableOptions: { timeToLive: 100, maxVersions: 2 }, reservedThroughput: { capacityUnit: { read: 0, write: 0 } } })],
  ['updateTable stream', 'updateTable', () => ({ tableName: 't', tableOptions: {}, streamSpecification: { enableStream: false } })],
  ['describeTable', 'describeTable', () => ({ tableName: 'tbl' })],
  ['deleteTable', 'deleteTable', () => ({ tableName: 'tbl' })],
  ['listTable', 'listTable', () => ({})],
  ['putRow every column type', 'putRow', () => ({
    tableName: 't', condition: C(IGNORE), primaryKey: [{ id: 'a' }, { seq: long(5) }], attributeColumns: everyType,
  })],
  ['putRow auto-increment + return pk', 'putRow', () => ({
    tableName: 't', condition: C(T.RowExistenceExpectation.EXPECT_NOT_EXIST), primaryKey: [{ id: 'a' }, { seq: T.PK_AUTO_INCR }],
    attributeColumns: [{ p: Buffer.alloc(300, 7) }], returnContent: { returnType: T.ReturnType.Primarykey },
  })],
  ['putRow timestamps and multi-key objects', 'putRow', () => ({
    tableName: 't', condition: C(IGNORE), primaryKey: [{ id: 'x' }],
    attributeColumns: [{ a: 'v', timestamp: 1700000000123 }, { b: 1.5, c: 'ignored but sized' }, { n: long(-1), timestamp: -5 }, { z: true, timestamp: null }],
  })],
  ['putRow unicode and binary ids', 'putRow', () => ({
    tableName: 't', condition: C(IGNORE), primaryKey: [{ id: 'ид-日本-😀' }, { bin: binaryId }], attributeColumns: [],
  })],
  ['putRow single condition', 'putRow', () => ({
    tableName: 't', condition: C(T.RowExistenceExpectation.EXPECT_EXIST, single('v', long(3), T.ComparatorType.GREATER_THAN, false, true)),
    primaryKey: [{ id: 'a' }], attributeColumns: [{ v: long(4) }],
  })],
  ['updateRow put/delete/delete_all/increment', 'updateRow', () => ({
    tableName: 't', condition: C(IGNORE), primaryKey: [{ id: 'a' }, { seq: long(1) }],
    updateOfAttributeColumns: [
      { PUT: [{ a: 'x' }, { b: long(2), timestamp: 1700000000000 }, { nul: null }] },
      { DELETE: [{ c: 1700000000001 }, { d: null }] },
      { DELETE_ALL: ['e', 'ü'] },
      { INCREMENT: [{ cnt: long(1) }] },
    ],
    returnContent: { returnType: T.ReturnType.AfterModify, returnColumns: ['cnt'] },
  })],
  ['updateRow composite condition (nested, NOT)', 'updateRow', () => ({
    tableName: 't',
    condition: C(IGNORE, composite(T.LogicalOperator.OR,
      single('a', 'x'),
      composite(T.LogicalOperator.AND, single('b', 1.5, T.ComparatorType.LESS_EQUAL), single('c', true, T.ComparatorType.NOT_EQUAL, true, false)),
      composite(T.LogicalOperator.NOT, single('d', binaryId, T.ComparatorType.GREATER_EQUAL)))),
    primaryKey: [{ id: 'a' }], updateOfAttributeColumns: [{ PUT: [{ a: 'y' }] }],
  })],
  ['deleteRow', 'deleteRow', () => ({ tableName: 't', condition: C(T.RowExistenceExpectation.EXPECT_EXIST), primaryKey: [{ id: 'a' }, { seq: long(9) }] })],
  ['deleteRow with condition + return', 'deleteRow', () => ({
    tableName: 't', condition: C(IGNORE, single('w', 'q', T.ComparatorType.LESS_THAN)), primaryKey: [{ id: 'a' }], returnContent: { returnType: T.ReturnType.Primarykey },
  })],
  ['getRow plain', 'getRow', () => ({ tableName: 't', primaryKey: [{ id: 'a' }, { seq: long(1) }] })],
  ['getRow everything', 'getRow', () => ({
    tableName: 't', primaryKey: [{ id: 'a' }], columnsToGet: ['a', 'b'], maxVersions: 3,
    timeRange: { startTime: 1, endTime: 1700000000000 }, startColumn: 'a', endColumn: 'z',
    columnFilter: new T.ColumnPaginationFilter(2, 1),
  })],
  ['getRow filter', 'getRow', () => ({ tableName: 't', primaryKey: [{ id: 'a' }], columnFilter: single('x', 'y', T.ComparatorType.EQUAL, false) })],
  ['getRange INF_MIN..INF_MAX forward', 'getRange', () => ({
    tableName: 't', direction: T.Direction.FORWARD, inclusiveStartPrimaryKey: [{ id: 'a' }, { seq: T.INF_MIN }], exclusiveEndPrimaryKey: [{ id: 'a' }, { seq: T.INF_MAX }], limit: 100,
  })],
  ['getRange backward with filter and time', 'getRange', () => ({
    tableName: 't', direction: T.Direction.BACKWARD, inclusiveStartPrimaryKey: [{ id: 'b' }, { seq: T.INF_MAX }], exclusiveEndPrimaryKey: [{ id: 'b' }, { seq: long(5) }],
    maxVersions: 1, columnFilter: composite(T.LogicalOperator.AND, single('k', long(1)), single('m', 'n')), timeRange: { specificTime: 1700000000000 },
    columnsToGet: ['k'],
  })],
  ['batchGetRow', 'batchGetRow', () => ({
    tables: [
      { tableName: 't', primaryKey: [[{ id: 'a' }, { seq: long(1) }], [{ id: 'b' }, { seq: long(2) }]], maxVersions: 2, columnsToGet: ['x'] },
      { tableName: 'u', primaryKey: [[{ bin: binaryId }]], columnFilter: single('x', 1.0) },
    ],
  })],
  ['batchWriteRow mixed', 'batchWriteRow', () => ({
    tables: [
      { tableName: 't', rows: [
        { type: 'PUT', condition: C(IGNORE), primaryKey: [{ id: 'a' }, { seq: T.PK_AUTO_INCR }], attributeColumns: [{ p: 'x' }], returnContent: { returnType: T.ReturnType.Primarykey } },
        { type: 'UPDATE', condition: C(T.RowExistenceExpectation.EXPECT_EXIST, single('v', long(1))), primaryKey: [{ id: 'b' }, { seq: long(1) }], attributeColumns: [{ INCREMENT: [{ n: long(1) }] }], returnContent: { returnType: T.ReturnType.AfterModify, returnColumns: ['n'] } },
        { type: 'DELETE', condition: C(IGNORE), primaryKey: [{ id: 'c' }, { seq: long(2) }] },
      ] },
      { tableName: 'u', rows: [{ type: 'PUT', condition: C(IGNORE), primaryKey: [{ id: 'z' }], attributeColumns: [] }] },
    ],
  })],
];

describe('request bodies equal the SDK encoder output', () => {
  it.each(corpus)('%s', (_name, op, params) => {
    same(op, params());
  });

  it('a 200-row fan-out BatchWriteRow (one payload to many inboxes) is identical, cells cached or not', () => {
    const payload = Buffer.alloc(1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const condition = C(IGNORE);
    const returnContent = { returnType: T.ReturnType.Primarykey };
    const rows = Array.from({ length: 200 }, (_, i) => ({
      type: 'PUT', condition, returnContent,
      primaryKey: [{ timeline_id: `inbox-${i}-ü` }, { seq_id: T.PK_AUTO_INCR }],
      // A fresh view per row over the same bytes, as the backend builds it.
      attributeColumns: [{ payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) }, { message_id: 'm'.repeat(200) }, { write_id: `w${i}` }],
    }));
    same('batchWriteRow', { tables: [{ tableName: 'inbox', rows }] });
    // Same lengths, different bytes at one row: the cache must not hand back another row's cell.
    const other = Buffer.from(payload);
    other[5] = (other[5] as number) ^ 1;
    rows[100]!.attributeColumns[0] = { payload: other };
    same('batchWriteRow', { tables: [{ tableName: 'inbox', rows }] });
  });

  it('a ~4 MB body is identical', () => {
    const big = Buffer.alloc(2 * 1024 * 1024 - 100, 0xab);
    const rows = [0, 1].map((i) => ({
      type: 'PUT', condition: C(IGNORE), primaryKey: [{ id: `big-${i}` }],
      attributeColumns: [{ payload: Buffer.from(big) }, { s: 'é'.repeat(1000) }],
    }));
    const body = codec.encodeRequest('batchWriteRow', { tables: [{ tableName: 't', rows }] });
    expect(body.length).toBeGreaterThan(4_000_000);
    same('batchWriteRow', { tables: [{ tableName: 't', rows }] });
  });

  it('refuses what the SDK refuses', () => {
    const bad: [SdkOperation, Record<string, unknown>][] = [
      ['putRow', { tableName: 't', primaryKey: [{ id: 'a' }], attributeColumns: [] }],
      ['putRow', { tableName: 't', condition: C(IGNORE), primaryKey: [{ id: 1.5 }], attributeColumns: [] }],
      ['putRow', { tableName: 't', condition: C(IGNORE), primaryKey: [{ id: 'a' }], attributeColumns: [{ x: {} }] }],
      ['putRow', { tableName: 't', condition: C(IGNORE), primaryKey: [{ 'ключ': 'a' }], attributeColumns: [] }],
      ['batchWriteRow', { tables: [] }],
      ['batchWriteRow', { tables: [{ tableName: 't', rows: [{ type: 'UPSERT', condition: C(IGNORE), primaryKey: [{ id: 'a' }] }] }] }],
      ['createTable', { tableMeta: { tableName: 't', primaryKey: [] } }],
    ];
    for (const [op, params] of bad) {
      expect(() => sdkEncode(op, params), `${op} ${JSON.stringify(Object.keys(params))}`).toThrow();
      expect(() => codec.encodeRequest(op, params)).toThrow();
    }
  });
});

// ---- seeded random corpus ----

const name = fc.oneof(fc.constantFrom('a', 'b', 'payload', 'seq_id', 'x_1'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }));
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => long(v));
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const pkValue = fc.oneof(text, int64, bytes);
const columnValue = fc.oneof(text, int64, bytes, fc.double(), fc.boolean());
const timestamp = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2 ** 47 - 1 }), fc.integer({ min: -(2 ** 40), max: -1 }));
const primaryKey = fc.array(fc.tuple(name, pkValue), { minLength: 1, maxLength: 4 }).map((cells) => cells.map(([k, v]) => ({ [k]: v })));
const putColumn = fc.tuple(name, columnValue, timestamp).map(([k, v, ts]) => (ts === undefined ? { [k]: v } : { [k]: v, timestamp: ts }));
const condition = fc.oneof(
  fc.constant(null),
  fc.tuple(name, columnValue, fc.integer({ min: 1, max: 6 }), fc.boolean(), fc.boolean()).map(([k, v, cmp, pass, latest]) => single(k, v, cmp, pass, latest)),
);
const update = fc.oneof(
  fc.array(putColumn, { minLength: 1, maxLength: 3 }).map((cols) => ({ PUT: cols })),
  fc.array(fc.tuple(name, fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 ** 46 }))), { minLength: 1, maxLength: 2 }).map((cols) => ({ DELETE: cols.map(([k, ts]) => ({ [k]: ts })) })),
  fc.array(name, { minLength: 1, maxLength: 2 }).map((names) => ({ DELETE_ALL: names })),
  fc.tuple(name, int64).map(([k, v]) => ({ INCREMENT: [{ [k]: v }] })),
);
const row = fc.oneof(
  fc.record({ type: fc.constant('PUT'), primaryKey, attributeColumns: fc.array(putColumn, { maxLength: 5 }), cc: condition }),
  fc.record({ type: fc.constant('UPDATE'), primaryKey, attributeColumns: fc.array(update, { maxLength: 4 }), cc: condition }),
  fc.record({ type: fc.constant('DELETE'), primaryKey, attributeColumns: fc.constant([]), cc: condition }),
);

describe('seeded random requests equal the SDK encoder output', () => {
  it('BatchWriteRow of random rows (seed 17)', () => {
    let compared = 0;
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 20 }), (rows) => {
        const params = { tables: [{ tableName: 'rand', rows: rows.map(({ cc, ...r }) => ({ ...r, condition: C(IGNORE, cc) })) }] };
        let expected: Buffer;
        try {
          expected = sdkEncode('batchWriteRow', params);
        } catch {
          // Params the SDK refuses (e.g. a multi-byte primary-key name): the codec must refuse them too.
          expect(() => codec.encodeRequest('batchWriteRow', params)).toThrow();
          return;
        }
        expect(codec.encodeRequest('batchWriteRow', params).toString('hex')).toBe(expected.toString('hex'));
        compared++;
      }),
      { seed: 17, numRuns: 300 },
    );
    // Most random batches must be ones the SDK accepts, or the comparison proves little.
    expect(compared).toBeGreaterThan(200);
  });

  it('GetRow and GetRange of random keys (seed 18)', () => {
    let compared = 0;
    fc.assert(
      fc.property(primaryKey, primaryKey, condition, fc.boolean(), fc.integer({ min: 0, max: 5000 }), (a, b, cc, backward, limit) => {
        const filter = cc === null ? undefined : cc;
        const get = { tableName: 'r', primaryKey: a, columnFilter: filter, maxVersions: limit % 3 };
        const range = { tableName: 'r', direction: backward ? 'BACKWARD' : 'FORWARD', inclusiveStartPrimaryKey: a, exclusiveEndPrimaryKey: b, limit, columnFilter: filter };
        for (const [op, params] of [['getRow', get], ['getRange', range]] as const) {
          let expected: Buffer;
          try {
            expected = sdkEncode(op, params);
          } catch {
            expect(() => codec.encodeRequest(op, params)).toThrow();
            continue;
          }
          expect(codec.encodeRequest(op, params).toString('hex')).toBe(expected.toString('hex'));
          compared++;
        }
      }),
      { seed: 18, numRuns: 300 },
    );
    expect(compared).toBeGreaterThan(400);
  });
});
