/**
 * A corpus of requests in the SDK's params shape, covering what the backend sends and the format's
 * corners: every column type, auto-increment, conditions (single and composite), INF_MIN/INF_MAX,
 * unicode and binary ids, updates of every kind, 200-row batches, a fan-out batch sharing one
 * payload and a ~4 MB body. Each entry builds a fresh params object per call, because the SDK's
 * encoder writes into the params it is given.
 */
import type { TableStoreSdk } from '../../src/backends/tablestore/sdk-types.js';
import type { Method } from './support.js';

/** One request of the corpus. */
export interface CorpusEntry {
  readonly name: string;
  readonly method: Method;
  readonly params: () => Record<string, unknown>;
}

/** A deterministic byte pattern (no randomness: the corpus is the same every run). */
export function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Builds the corpus with the SDK's constants. */
export function requestCorpus(sdk: TableStoreSdk): CorpusEntry[] {
  // The SDK namespace has more than the backend's typed subset (UpdateType, CompositeCondition, …).
  const T = sdk as unknown as Record<string, any>;
  const long = (s: string): unknown => T.Long.fromString(s);
  const pk = (id: unknown, seq: unknown): Record<string, unknown>[] => [{ timeline_id: id }, { seq_id: seq }];
  const ignore = (): unknown => new T.Condition(T.RowExistenceExpectation.IGNORE, null);
  const single = (): unknown => new T.Condition(T.RowExistenceExpectation.EXPECT_EXIST, new T.SingleColumnCondition('message_id', 'm-1', T.ComparatorType.EQUAL, false, true));
  const composite = (): unknown => {
    const c = new T.CompositeCondition(T.LogicalOperator.AND);
    c.addSubCondition(new T.SingleColumnCondition('message_id', 'm-1', T.ComparatorType.EQUAL, true, true));
    c.addSubCondition(new T.SingleColumnCondition('seq_id', long('99'), T.ComparatorType.LESS_THAN, false, false));
    return new T.Condition(T.RowExistenceExpectation.IGNORE, c);
  };
  const payload = pattern(300, 7);
  const allTypes = (): Record<string, unknown>[] => [
    { s: 'plain ascii' },
    { u: 'émoji 💬 中文 \u0000 nul' },
    { empty: '' },
    { i: long('-9223372036854775808') },
    { imax: long('9223372036854775807') },
    { n: 42 },
    { d: 3.141592653589793 },
    { dneg: -0.5 },
    { b: true },
    { f: false },
    { bin: payload },
    { emptyBin: Buffer.alloc(0) },
    { versioned: 'v', timestamp: long('1700000000123') },
  ];
  const fanOut = (rows: number, share: boolean): Record<string, unknown> => {
    const shared = pattern(200, 11);
    return {
      tables: [
        {
          tableName: 'inbox',
          rows: Array.from({ length: rows }, (_, i) => ({
            type: 'PUT',
            condition: ignore(),
            primaryKey: pk(`user-${i}`, T.PK_AUTO_INCR),
            attributeColumns: [{ payload: share ? shared : pattern(200, i + 1) }, { message_id: 'msg-1' }, { write_id: `w-${i}` }],
            returnContent: { returnType: T.ReturnType.Primarykey },
          })),
        },
      ],
    };
  };
  return [
    {
      name: 'createTable with TTL, versions, throughput and an auto-increment key',
      method: 'createTable',
      params: () => ({
        tableMeta: { tableName: 'timeline', primaryKey: [{ name: 'timeline_id', type: 'STRING' }, { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' }] },
        reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
        tableOptions: { timeToLive: 86_400, maxVersions: 1 },
      }),
    },
    {
      name: 'createTable with a binary key and no TTL',
      method: 'createTable',
      params: () => ({
        tableMeta: { tableName: 'records', primaryKey: [{ name: 'partition', type: 'BINARY' }, { name: 'key', type: 'STRING' }] },
        reservedThroughput: { capacityUnit: { read: 1, write: 2 } },
        tableOptions: { timeToLive: -1, maxVersions: 1 },
      }),
    },
    { name: 'describeTable', method: 'describeTable', params: () => ({ tableName: 'timeline' }) },
    { name: 'updateTable TTL', method: 'updateTable', params: () => ({ tableName: 'timeline', tableOptions: { timeToLive: 3600, maxVersions: 1 } }) },
    {
      name: 'putRow with every column type, auto-increment, returning the key',
      method: 'putRow',
      params: () => ({ tableName: 'timeline', condition: ignore(), primaryKey: pk('alice', T.PK_AUTO_INCR), attributeColumns: allTypes(), returnContent: { returnType: T.ReturnType.Primarykey } }),
    },
    {
      name: 'putRow with unicode and binary ids, EXPECT_NOT_EXIST',
      method: 'putRow',
      params: () => ({
        tableName: '表',
        condition: new T.Condition(T.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
        primaryKey: [{ timeline_id: 'グループ:👪' }, { seq_id: long('12345678901234567') }, { raw: Buffer.from([0, 255, 128, 10]) }],
        attributeColumns: [{ payload }],
      }),
    },
    { name: 'putRow with a single-column condition', method: 'putRow', params: () => ({ tableName: 'timeline', condition: single(), primaryKey: pk('bob', long('1')), attributeColumns: [{ payload }] }) },
    { name: 'putRow with a composite condition', method: 'putRow', params: () => ({ tableName: 'timeline', condition: composite(), primaryKey: pk('bob', long('2')), attributeColumns: [{ payload }] }) },
    {
      name: 'updateRow: put, delete one version, delete all, increment',
      method: 'updateRow',
      params: () => ({
        tableName: 'timeline',
        condition: single(),
        primaryKey: pk('dave', long('4')),
        updateOfAttributeColumns: [{ PUT: [{ payload }, { message_id: 'm-2' }] }, { DELETE: [{ old: long('1700000000000') }] }, { DELETE_ALL: ['gone', 'also_gone'] }],
        returnContent: { returnType: T.ReturnType.Primarykey },
      }),
    },
    {
      name: 'updateRow: increment',
      method: 'updateRow',
      params: () => ({ tableName: 'counters', condition: ignore(), primaryKey: [{ partition: Buffer.from('p') }, { key: 'k' }], updateOfAttributeColumns: [{ INCREMENT: [{ version: long('1') }] }] }),
    },
    { name: 'deleteRow with a condition', method: 'deleteRow', params: () => ({ tableName: 'timeline', condition: single(), primaryKey: pk('erin', long('5')) }) },
    { name: 'deleteRow without a condition', method: 'deleteRow', params: () => ({ tableName: 'timeline', condition: ignore(), primaryKey: pk('erin', long('6')) }) },
    { name: 'getRow, latest version, some columns', method: 'getRow', params: () => ({ tableName: 'timeline', primaryKey: pk('frank', long('7')), maxVersions: 1, columnsToGet: ['payload', 'message_id'] }) },
    { name: 'getRow with a column filter', method: 'getRow', params: () => ({ tableName: 'timeline', primaryKey: pk('frank', long('8')), maxVersions: 1, columnFilter: new T.SingleColumnCondition('message_id', 'm', T.ComparatorType.EQUAL, false, true) }) },
    {
      name: 'getRange forward, INF_MIN to INF_MAX, limit',
      method: 'getRange',
      params: () => ({ tableName: 'timeline', direction: T.Direction.FORWARD, inclusiveStartPrimaryKey: pk('gina', T.INF_MIN), exclusiveEndPrimaryKey: pk('gina', T.INF_MAX), limit: 100, maxVersions: 1 }),
    },
    {
      name: 'getRange backward from a seq, with a composite filter',
      method: 'getRange',
      params: () => ({
        tableName: 'timeline',
        direction: T.Direction.BACKWARD,
        inclusiveStartPrimaryKey: pk('gina', long('9007199254740993')),
        exclusiveEndPrimaryKey: pk('gina', T.INF_MIN),
        limit: 5000,
        maxVersions: 1,
        columnFilter: (() => {
          const c = new T.CompositeCondition(T.LogicalOperator.OR);
          c.addSubCondition(new T.SingleColumnCondition('message_id', 'a', T.ComparatorType.EQUAL, false, true));
          c.addSubCondition(new T.SingleColumnCondition('message_id', 'b', T.ComparatorType.EQUAL, false, true));
          return c;
        })(),
      }),
    },
    { name: 'batchWriteRow: 200 fan-out rows sharing one payload', method: 'batchWriteRow', params: () => fanOut(200, true) },
    { name: 'batchWriteRow: 200 rows with distinct payloads', method: 'batchWriteRow', params: () => fanOut(200, false) },
    {
      name: 'batchWriteRow: two tables, put, update and delete rows with conditions',
      method: 'batchWriteRow',
      params: () => ({
        tables: [
          { tableName: 'a', rows: [{ type: 'PUT', condition: single(), primaryKey: pk('h', long('1')), attributeColumns: allTypes() }, { type: 'DELETE', condition: ignore(), primaryKey: pk('h', long('2')) }] },
          { tableName: 'b', rows: [{ type: 'UPDATE', condition: composite(), primaryKey: pk('i', long('3')), attributeColumns: [{ PUT: [{ payload }] }, { DELETE_ALL: ['x'] }] }] },
        ],
      }),
    },
    {
      name: 'batchWriteRow: a ~4 MB body (200 rows of 20,000 bytes)',
      method: 'batchWriteRow',
      params: () => ({
        tables: [{ tableName: 'big', rows: Array.from({ length: 200 }, (_, i) => ({ type: 'PUT', condition: ignore(), primaryKey: pk(`u${i}`, long(String(i + 1))), attributeColumns: [{ payload: pattern(20_000, i + 100) }] })) }],
      }),
    },
  ];
}
