/**
 * Answers of the backend's appends (PutRow, BatchWriteRow) decoded straight to per-row outcomes:
 * the seq as an exact bigint from the returned key's 8 bytes, or the row's error code and message.
 * The outcomes are those `putOutcomeOfSdk` / `batchOutcomeOfSdk` (sdk-answers.ts) give for the SDK
 * decoder's result of the same bytes; test/codec/direct-answers.test.ts checks it.
 *
 * @packageDocumentation
 */
import { ProtoReader } from '../../../codec/protobuf.js';
import type { RowOutcome } from '../answers.js';
import type { ResolvedColumns } from '../row-layout.js';
import { checkConsumed, consumedAndRow, expectWire, WIRE_LEN, WIRE_VARINT } from './proto-fields.js';
import { TimelineRowReader } from './row-reader.js';
import { unusual } from './unusual-answer.js';

/** The seq of the returned row at `[from, to)` (the first row of it; bytes after it are ignored, as the SDK ignores them). */
function returnedSeq(reader: TimelineRowReader, body: Buffer, from: number, to: number): bigint | undefined {
  if (to <= from) return undefined;
  reader.begin(body, from, to);
  reader.readRow(false);
  return reader.seq;
}

/** `Error { required string code = 1; optional string message = 2 }` at `[from, to)`. */
function errorOf(body: Buffer, from: number, to: number): { code: string; message: string } {
  const r = new ProtoReader(body, from, to);
  let code: string | undefined;
  let message = '';
  while (!r.done) {
    const key = r.uvarint();
    const no = Math.floor(key / 8);
    if (no === 1 || no === 2) {
      expectWire(key % 8, WIRE_LEN, 'Error');
      const start = r.skipLengthDelimited();
      const text = body.toString('utf8', start, r.position);
      if (no === 1) code = text;
      else message = text;
    } else {
      r.skip(key % 8);
    }
  }
  if (code === undefined) unusual('Error without code');
  return { code, message };
}

/** The outcome of a PutRow answer (`consumed`, and the returned key when asked for). */
export function decodePutRowAnswer(body: Buffer, columns: ResolvedColumns): RowOutcome {
  const { from: rowFrom, to: rowTo } = consumedAndRow(body, 'PutRowResponse');
  return { ok: true, seq: returnedSeq(new TimelineRowReader(columns, ''), body, rowFrom, rowTo) };
}

/** One `RowInBatchWriteRowResponse` at `[from, to)`. */
function rowOutcome(reader: TimelineRowReader, body: Buffer, from: number, to: number): RowOutcome {
  const r = new ProtoReader(body, from, to);
  let ok: boolean | undefined;
  let errorFrom = -1;
  let errorTo = -1;
  let rowFrom = 0;
  let rowTo = 0;
  while (!r.done) {
    const key = r.uvarint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (no === 1) {
      expectWire(wire, WIRE_VARINT, 'RowInBatchWriteRowResponse.is_ok');
      const v = r.varint();
      ok = typeof v === 'number' ? v !== 0 : v !== 0n;
    } else if (no === 2) {
      expectWire(wire, WIRE_LEN, 'RowInBatchWriteRowResponse.error');
      errorFrom = r.skipLengthDelimited();
      errorTo = r.position;
    } else if (no === 3) {
      expectWire(wire, WIRE_LEN, 'RowInBatchWriteRowResponse.consumed');
      const start = r.skipLengthDelimited();
      checkConsumed(body, start, r.position);
    } else if (no === 4) {
      expectWire(wire, WIRE_LEN, 'RowInBatchWriteRowResponse.row');
      rowFrom = r.skipLengthDelimited();
      rowTo = r.position;
    } else {
      r.skip(wire);
    }
  }
  if (ok === undefined) unusual('RowInBatchWriteRowResponse without is_ok');
  const error = errorFrom >= 0 ? errorOf(body, errorFrom, errorTo) : undefined;
  if (ok) return { ok: true, seq: returnedSeq(reader, body, rowFrom, rowTo) };
  // The SDK's decoder fails on a failed row without an error: left to it.
  if (error === undefined) unusual('a failed row without an error');
  return { ok: false, code: error.code, message: error.message };
}

/** One `TableInBatchWriteRowResponse` at `[from, to)`: its rows' outcomes appended to `out`. */
function tableOutcomes(reader: TimelineRowReader, body: Buffer, from: number, to: number, out: RowOutcome[]): void {
  const r = new ProtoReader(body, from, to);
  let named = false;
  while (!r.done) {
    const key = r.uvarint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (no === 1) {
      expectWire(wire, WIRE_LEN, 'TableInBatchWriteRowResponse.table_name');
      r.skipLengthDelimited();
      named = true;
    } else if (no === 2) {
      expectWire(wire, WIRE_LEN, 'TableInBatchWriteRowResponse.rows');
      const start = r.skipLengthDelimited();
      out.push(rowOutcome(reader, body, start, r.position));
    } else {
      r.skip(wire);
    }
  }
  if (!named) unusual('TableInBatchWriteRowResponse without table_name');
}

/** The outcomes of a BatchWriteRow answer, one per row, tables after one another, in answer order. */
export function decodeBatchWriteAnswer(body: Buffer, columns: ResolvedColumns): RowOutcome[] {
  const reader = new TimelineRowReader(columns, '');
  const out: RowOutcome[] = [];
  const r = new ProtoReader(body);
  while (!r.done) {
    const key = r.uvarint();
    const wire = key % 8;
    if (Math.floor(key / 8) === 1) {
      expectWire(wire, WIRE_LEN, 'BatchWriteRowResponse.tables');
      const start = r.skipLengthDelimited();
      tableOutcomes(reader, body, start, r.position, out);
    } else {
      r.skip(wire);
    }
  }
  return out;
}
