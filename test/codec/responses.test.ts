/**
 * Differential test of response decoding: bodies built with the emulator's own encoders (the
 * shared PlainBuffer writer and protobuf codec) are decoded by the official SDK's decoder and by
 * the codec; the results must be the same, field for field (prototype defaults included).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeError, type SdkOperation } from '../../src/codec/index.js';
import * as M from '../../src/codec/messages.js';
import type { PlainCell, PlainRow, PlainValue } from '../../src/codec/plain-buffer-format.js';
import { encodeRow, encodeRows } from '../../src/codec/plain-buffer-writer.js';
import { encodeMessage } from '../../src/codec/protobuf.js';
import { codec, normalise, sdkDecode } from './sdk-oracle.js';

function same(op: SdkOperation, body: Buffer): unknown {
  const expected = normalise(sdkDecode(op, body));
  const got = codec.decodeResponse(op, body);
  expect(normalise(got)).toEqual(expected);
  return got;
}

const consumed = (read?: number, write?: number) => ({ capacity_unit: { read, write } });
const pk = (id: string, seq: bigint): PlainCell[] => [
  { name: 'timeline_id', value: { type: 'STRING', value: id } },
  { name: 'seq_id', value: { type: 'INTEGER', value: seq } },
];
const attrs: PlainCell[] = [
  { name: 'payload', value: { type: 'BINARY', value: Buffer.from([1, 2, 3, 0xff]) }, timestamp: 1700000000123n },
  { name: 'text', value: { type: 'STRING', value: 'ünïcødé 😀' }, timestamp: 1n },
  { name: 'n', value: { type: 'INTEGER', value: -(2n ** 63n) }, timestamp: 2n },
  { name: 'd', value: { type: 'DOUBLE', value: -1.5 }, timestamp: 3n },
  { name: 'b', value: { type: 'BOOLEAN', value: true }, timestamp: 4n },
];
const row = (id: string, seq: bigint, attributes: PlainCell[] = attrs): PlainRow => ({ primaryKey: pk(id, seq), attributes, deleteMarker: false });

describe('response results equal the SDK decoder output', () => {
  it('GetRow: a row with every column type, and an absent row', () => {
    const got = same('getRow', encodeMessage(M.GetRowResponse, { consumed: consumed(1), row: encodeRow(row('a', 5n)) })) as { row: { attributes: unknown[] } };
    expect(got.row.attributes).toHaveLength(5);
    same('getRow', encodeMessage(M.GetRowResponse, { consumed: consumed(1, 0), row: Buffer.alloc(0) }));
  });

  it('PutRow / UpdateRow / DeleteRow: with and without a returned row', () => {
    for (const op of ['putRow', 'updateRow', 'deleteRow'] as const) {
      same(op, encodeMessage(M.WriteRowResponse, { consumed: consumed(0, 1) }));
      same(op, encodeMessage(M.WriteRowResponse, { consumed: consumed(undefined, 1), row: encodeRow({ primaryKey: pk('x', 42n), attributes: [], deleteMarker: false }) }));
    }
    // Increment's AfterModify answer: the new value without a timestamp.
    same('updateRow', encodeMessage(M.WriteRowResponse, { consumed: consumed(1, 1), row: encodeRow({ primaryKey: pk('x', 1n), attributes: [{ name: 'cnt', value: { type: 'INTEGER', value: 7n } }], deleteMarker: false }) }));
  });

  it('GetRange: pages with and without a continuation key, and an empty page', () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(`t-${i % 3}`, BigInt(i) * 1_000_000_007n));
    const got = same('getRange', encodeMessage(M.GetRangeResponse, { consumed: consumed(5), rows: encodeRows(rows), next_start_primary_key: encodeRow({ primaryKey: pk('t-2', 99n), attributes: [], deleteMarker: false }) })) as { rows: unknown[]; nextStartPrimaryKey: unknown };
    expect(got.rows).toHaveLength(50);
    expect(got.nextStartPrimaryKey).not.toBeNull();
    same('getRange', encodeMessage(M.GetRangeResponse, { consumed: consumed(1), rows: encodeRows(rows.slice(0, 3)) }));
    same('getRange', encodeMessage(M.GetRangeResponse, { consumed: consumed(1), rows: Buffer.alloc(0), next_start_primary_key: encodeRow({ primaryKey: pk('z', 0n), attributes: [], deleteMarker: false }) }));
  });

  it('BatchWriteRow: per-row successes, returned keys and per-row errors over two tables', () => {
    const ok = (seq: bigint) => ({ is_ok: true, consumed: consumed(0, 1), row: encodeRow({ primaryKey: pk('i', seq), attributes: [], deleteMarker: false }) });
    const body = encodeMessage(M.BatchWriteRowResponse, {
      tables: [
        { table_name: 'inbox', rows: [ok(1n), { is_ok: false, error: { code: 'OTSConditionCheckFail', message: 'Condition check failed.' } }, { is_ok: true, consumed: consumed(0, 1) }, ok(2n)] },
        { table_name: 'other', rows: [{ is_ok: false, error: { code: 'OTSParameterInvalid' } }, { is_ok: true }] },
      ],
    });
    const got = same('batchWriteRow', body) as { tables: { isOk: boolean; errorCode: string | null }[] };
    expect(got.tables.map((r) => r.errorCode)).toEqual([null, 'OTSConditionCheckFail', null, null, 'OTSParameterInvalid', null]);
  });

  it('BatchGetRow: found, missing and failed rows', () => {
    same('batchGetRow', encodeMessage(M.BatchGetRowResponse, {
      tables: [{ table_name: 't', rows: [
        { is_ok: true, consumed: consumed(1), row: encodeRow(row('a', 1n)) },
        { is_ok: true, consumed: consumed(1), row: Buffer.alloc(0) },
        { is_ok: false, error: { code: 'OTSObjectNotExist', message: 'no such table' } },
      ] }],
    }));
  });

  it('DescribeTable, UpdateTable, ListTable, CreateTable, DeleteTable', () => {
    const details = { capacity_unit: { read: 0, write: 0 }, last_increase_time: 1700000000n };
    same('describeTable', encodeMessage(M.DescribeTableResponse, {
      table_meta: { table_name: 't', primary_key: [{ name: 'id', type: 2 }, { name: 'seq', type: 1, option: 1 }], defined_column: [{ name: 'c', type: 4 }] },
      reserved_throughput_details: details,
      table_options: { time_to_live: -1, max_versions: 1, deviation_cell_version_in_sec: 86400n },
      table_status: 1,
      stream_details: { enable_stream: true, stream_id: 's', expiration_time: 24, last_enable_time: 5n },
    }));
    same('describeTable', encodeMessage(M.DescribeTableResponse, { table_meta: { table_name: 't' }, reserved_throughput_details: details, table_options: {}, table_status: 1 }));
    same('updateTable', encodeMessage(M.UpdateTableResponse, { reserved_throughput_details: details, table_options: { time_to_live: 100, max_versions: 2 } }));
    same('listTable', encodeMessage(M.ListTableResponse, { table_names: ['a', 'b'] }));
    same('createTable', Buffer.alloc(0));
    same('deleteTable', Buffer.alloc(0));
  });

  it('error bodies', () => {
    expect(decodeError(encodeMessage(M.ErrorMsg, { code: 'OTSAuthFailed', message: 'bad signature' }))).toEqual({ code: 'OTSAuthFailed', message: 'bad signature' });
    expect(decodeError(encodeMessage(M.ErrorMsg, { code: 'OTSServerBusy' }))).toEqual({ code: 'OTSServerBusy', message: '' });
  });

  it('a corrupted checksum is refused by both', () => {
    const bytes = Buffer.from(encodeRow(row('a', 1n)));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x55;
    const body = encodeMessage(M.GetRowResponse, { consumed: consumed(1), row: bytes });
    expect(() => sdkDecode('getRow', body)).toThrow();
    expect(() => codec.decodeResponse('getRow', body)).toThrow();
  });
});

// ---- seeded random corpus ----

const cellName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 });
const pkValue: fc.Arbitrary<PlainValue> = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: 'INTEGER' as const, value })),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((value) => ({ type: 'STRING' as const, value })),
  fc.uint8Array({ maxLength: 40 }).map((a) => ({ type: 'BINARY' as const, value: Buffer.from(a) })),
);
const value: fc.Arbitrary<PlainValue> = fc.oneof(
  pkValue,
  fc.double().map((v) => ({ type: 'DOUBLE' as const, value: v })),
  fc.boolean().map((v) => ({ type: 'BOOLEAN' as const, value: v })),
);
const randomRow: fc.Arbitrary<PlainRow> = fc.record({
  primaryKey: fc.array(fc.record({ name: cellName, value: pkValue }), { minLength: 1, maxLength: 4 }),
  attributes: fc.array(fc.record({ name: cellName, value, timestamp: fc.option(fc.bigInt({ min: 0n, max: 2n ** 62n }), { nil: undefined }) }), { maxLength: 6 }),
  deleteMarker: fc.constant(false),
});

describe('seeded random responses equal the SDK decoder output', () => {
  it('GetRange pages of random rows (seed 21)', () => {
    fc.assert(
      fc.property(fc.array(randomRow, { maxLength: 12 }), fc.option(randomRow, { nil: undefined }), (rows, next) => {
        same('getRange', encodeMessage(M.GetRangeResponse, { consumed: consumed(rows.length), rows: encodeRows(rows), next_start_primary_key: next === undefined ? undefined : encodeRow({ ...next, attributes: [] }) }));
      }),
      { seed: 21, numRuns: 200 },
    );
  });

  it('BatchWriteRow answers of random rows and errors (seed 22)', () => {
    const item = fc.oneof(
      randomRow.map((r) => ({ is_ok: true, consumed: consumed(0, 1), row: encodeRow({ ...r, attributes: [] }) })),
      fc.record({ code: fc.constantFrom('OTSConditionCheckFail', 'OTSServerBusy', 'OTSQuotaExhausted'), message: fc.string() }).map((error) => ({ is_ok: false, error })),
    );
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), (rows) => {
        same('batchWriteRow', encodeMessage(M.BatchWriteRowResponse, { tables: [{ table_name: 't', rows }] }));
      }),
      { seed: 22, numRuns: 200 },
    );
  });
});
