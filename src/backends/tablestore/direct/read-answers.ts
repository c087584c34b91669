/**
 * Answers of the backend's timeline reads decoded straight to its rows: a GetRange page to
 * `StoredRow`s and the next page's start seq, a GetRow answer to its row. The results are those
 * `pageOfSdk` / `writesPageOfSdk` (sdk-answers.ts) and `parseRow` give for the SDK decoder's
 * result of the same bytes; test/codec/direct-answers.test.ts checks it.
 *
 * @packageDocumentation
 */
import type { StoredRow } from '../../../core/backend.js';
import { ProtoReader } from '../../../codec/protobuf.js';
import type { PageAnswer, WritesPageAnswer } from '../answers.js';
import type { ParsedRow, ResolvedColumns } from '../row-layout.js';
import { checkConsumed, consumedAndRow, expectWire, WIRE_LEN, WIRE_VARINT } from './proto-fields.js';
import { IdCell, TimelineRowReader } from './row-reader.js';
import { unusual } from './unusual-answer.js';

/** Where the parts of a GetRange answer are in its body. */
interface RangeParts {
  rowsFrom: number;
  rowsTo: number;
  nextFrom: number;
  nextTo: number;
}

/** The fields of `GetRangeResponse`, checked as the generic decoder checks them. */
function rangeParts(body: Buffer): RangeParts {
  const parts: RangeParts = { rowsFrom: -1, rowsTo: -1, nextFrom: 0, nextTo: 0 };
  let consumed = false;
  const r = new ProtoReader(body);
  while (!r.done) {
    const key = r.uvarint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (no === 1) {
      expectWire(wire, WIRE_LEN, 'GetRangeResponse.consumed');
      const start = r.skipLengthDelimited();
      checkConsumed(body, start, r.position);
      consumed = true;
    } else if (no === 2) {
      expectWire(wire, WIRE_LEN, 'GetRangeResponse.rows');
      parts.rowsFrom = r.skipLengthDelimited();
      parts.rowsTo = r.position;
    } else if (no === 3) {
      expectWire(wire, WIRE_LEN, 'GetRangeResponse.next_start_primary_key');
      parts.nextFrom = r.skipLengthDelimited();
      parts.nextTo = r.position;
    } else if (no === 4) {
      expectWire(wire, WIRE_LEN, 'GetRangeResponse.next_token');
      r.skipLengthDelimited();
    } else if (no === 5 || no === 6) {
      expectWire(wire, WIRE_VARINT, 'GetRangeResponse enum');
      r.varint();
    } else {
      r.skip(wire);
    }
  }
  if (!consumed || parts.rowsFrom < 0) unusual('GetRangeResponse without consumed or rows');
  return parts;
}

/** The next page's start seq from the `next_start_primary_key` at `[from, to)`, as `continuation` reads it. */
function nextSeq(reader: TimelineRowReader, body: Buffer, from: number, to: number): bigint | undefined {
  if (to <= from) return undefined;
  reader.begin(body, from, to);
  reader.readRow(false);
  if (reader.keyCells === 0 || reader.idCell === IdCell.Other || reader.idCell === IdCell.NotString) return undefined;
  return reader.seq;
}

/** The row just read as a `StoredRow`. */
function storedRow(reader: TimelineRowReader): StoredRow {
  const messageId = reader.messageId;
  const timelineId = reader.timelineId();
  const seq = reader.seq!;
  const payload = reader.payload();
  return messageId === undefined ? { timelineId, seq, payload } : { timelineId, seq, payload, messageId };
}

/** A page of `timelineId`: its rows with a payload, and where the next page starts. */
export function decodePageAnswer(body: Buffer, columns: ResolvedColumns, timelineId: string): PageAnswer {
  const parts = rangeParts(body);
  const reader = new TimelineRowReader(columns, timelineId);
  const rows: StoredRow[] = [];
  if (parts.rowsTo > parts.rowsFrom) {
    reader.begin(body, parts.rowsFrom, parts.rowsTo);
    while (!reader.done) {
      reader.readRow(false);
      if (reader.idCell === IdCell.Expected && reader.seq !== undefined && reader.hasPayload) rows.push(storedRow(reader));
    }
  }
  return { rows, next: nextSeq(reader, body, parts.nextFrom, parts.nextTo) };
}

/** A page read to settle ambiguous writes: every row with a key, payload or not, with its write id and write time. */
export function decodeWritesPageAnswer(body: Buffer, columns: ResolvedColumns, timelineId: string): WritesPageAnswer {
  const parts = rangeParts(body);
  const reader = new TimelineRowReader(columns, timelineId);
  const rows: ParsedRow[] = [];
  let scanned = 0;
  if (parts.rowsTo > parts.rowsFrom) {
    reader.begin(body, parts.rowsFrom, parts.rowsTo);
    while (!reader.done) {
      reader.readRow(true);
      scanned++;
      if ((reader.idCell === IdCell.Expected || reader.idCell === IdCell.Other) && reader.seq !== undefined) {
        rows.push({ row: storedRow(reader), writeId: reader.writeId, writtenAtMs: reader.writtenAtMs });
      }
    }
  }
  return { rows, scanned, next: nextSeq(reader, body, parts.nextFrom, parts.nextTo) };
}

/**
 * The row of a GetRow answer as `parseRow` gives it (undefined when absent, without payload, or
 * not a timeline row); the caller checks that it is the entry asked for.
 */
export function decodeGetRowAnswer(body: Buffer, columns: ResolvedColumns, timelineId: string): StoredRow | undefined {
  const { from: rowFrom, to: rowTo } = consumedAndRow(body, 'GetRowResponse');
  if (rowTo <= rowFrom) return undefined;
  const reader = new TimelineRowReader(columns, timelineId);
  reader.begin(body, rowFrom, rowTo);
  reader.readRow(false);
  const isRow = (reader.idCell === IdCell.Expected || reader.idCell === IdCell.Other) && reader.seq !== undefined && reader.hasPayload;
  return isRow ? storedRow(reader) : undefined;
}
