import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';
import {
  PAYLOAD_CHUNK_BYTES,
  attributeColumns,
  parseRow,
  resolveColumns,
  rowOverheadBytes,
  seqOfPrimaryKey,
  toBigInt,
  toRequestPrimaryKey,
  toSdkLong,
} from '../../src/backends/tablestore/row-layout.js';

const columns = resolveColumns(undefined);

describe('exact 64-bit conversions', () => {
  it('reads the SDK Int64 through its bytes, exactly, across the whole range', async () => {
    const sdk = await loadTableStoreSdk();
    for (const value of [0n, 1n, 2n ** 53n + 1n, 2n ** 60n + 7n, 2n ** 63n - 1n, -1n, -(2n ** 63n)]) {
      expect(toBigInt(toSdkLong(sdk, value))).toBe(value);
    }
  });

  it('reads protobufjs Longs, 8-byte buffers, bigints, safe numbers and decimal strings', () => {
    expect(toBigInt({ low: -1, high: 0x7fffffff, unsigned: false })).toBe(2n ** 63n - 1n);
    expect(toBigInt({ low: 0, high: -1, unsigned: false })).toBe(-(2n ** 32n));
    expect(toBigInt({ low: 0, high: -1, unsigned: true })).toBe(0xffffffff00000000n);
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(2n ** 62n + 3n);
    expect(toBigInt(buffer)).toBe(2n ** 62n + 3n);
    expect(toBigInt(5n)).toBe(5n);
    expect(toBigInt(42)).toBe(42n);
    expect(toBigInt('9007199254740993')).toBe(9007199254740993n);
  });

  it('refuses what it cannot read exactly', () => {
    expect(() => toBigInt(2 ** 60)).toThrow(TypeError);
    expect(() => toBigInt(1.5)).toThrow(TypeError);
    expect(() => toBigInt({})).toThrow(TypeError);
    expect(() => toBigInt(null)).toThrow(TypeError);
  });
});

describe('continuation keys', () => {
  it('converts [{ name, value }] to the request shape [{ [name]: value }] and to a seq', async () => {
    const sdk = await loadTableStoreSdk();
    const seq = toSdkLong(sdk, 2n ** 62n + 11n);
    const returned = [
      { name: 'timeline_id', value: 'bob' },
      { name: 'seq_id', value: seq },
    ];
    expect(toRequestPrimaryKey(returned)).toEqual([{ timeline_id: 'bob' }, { seq_id: seq }]);
    expect(seqOfPrimaryKey(returned, columns)).toBe(2n ** 62n + 11n);
    expect(seqOfPrimaryKey([{ name: 'timeline_id', value: 'bob' }], columns)).toBeUndefined();
    expect(seqOfPrimaryKey(null, columns)).toBeUndefined();
  });
});

describe('row layout', () => {
  it('splits payloads over 1 MiB into continuation columns and joins them back', () => {
    const payload = Uint8Array.from({ length: 2 * PAYLOAD_CHUNK_BYTES + 5 }, (_, i) => i & 0xff);
    const attrs = attributeColumns(columns, { timelineId: 'bob', payload, messageId: 'm' }, 'w1');
    expect(attrs.map((a) => Object.keys(a)[0])).toEqual(['payload', 'payload_1', 'payload_2', 'message_id', 'write_id']);
    const parsed = parseRow(
      {
        primaryKey: [
          { name: 'timeline_id', value: 'bob' },
          { name: 'seq_id', value: 7 },
        ],
        // Out of order on purpose: chunks are placed by their index.
        attributes: [...attrs].reverse().map((a) => ({ columnName: Object.keys(a)[0]!, columnValue: Object.values(a)[0], timestamp: 1_700_000_000_000 })),
      },
      columns,
    );
    expect(parsed?.row.seq).toBe(7n);
    expect(parsed?.row.messageId).toBe('m');
    expect(parsed?.writeId).toBe('w1');
    expect(parsed?.writtenAtMs).toBe(1_700_000_000_000);
    expect(Buffer.compare(Buffer.from(parsed!.row.payload), Buffer.from(payload))).toBe(0);
  });

  it('treats a missing row, and a row without payload, as absent', () => {
    expect(parseRow(undefined, columns)).toBeUndefined();
    expect(parseRow({ primaryKey: [], attributes: [] }, columns)).toBeUndefined();
    const pkOnly = { primaryKey: [{ name: 'timeline_id', value: 'a' }, { name: 'seq_id', value: 1 }], attributes: [] };
    expect(parseRow(pkOnly, columns)).toBeUndefined();
    expect(parseRow(pkOnly, columns, { requirePayload: false })?.row.seq).toBe(1n);
  });

  it('validates column names: ASCII identifiers, distinct, clear of payload continuations', () => {
    expect(resolveColumns({ timelineId: 'user_id', seq: 'seq' })).toMatchObject({ timelineId: 'user_id', seq: 'seq', payload: 'payload' });
    expect(() => resolveColumns({ payload: 'données' })).toThrow(ValidationError);
    expect(() => resolveColumns({ seq: '1seq' })).toThrow(/options\.columns\.seq/);
    expect(() => resolveColumns({ messageId: 'write_id' })).toThrow(/must differ/);
    expect(() => resolveColumns({ writeId: 'payload_1' })).toThrow(/continuation/);
  });

  it('declares an honest per-row overhead', () => {
    const overhead = rowOverheadBytes(columns);
    expect(overhead).toBeGreaterThanOrEqual(150);
    expect(overhead).toBeLessThanOrEqual(256);
    expect(rowOverheadBytes(resolveColumns({ payload: 'a_much_longer_payload_column_name' }))).toBeGreaterThan(overhead);
  });
});
