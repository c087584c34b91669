/**
 * The bodies of the backend's reads of a timeline (GetRow of one entry, GetRange of a page),
 * encoded from the timeline id and bigint seqs: no SDK primary keys, `Long`s or `INF_MIN` /
 * `INF_MAX` markers. The bytes are those the SDK sends for the params reads.ts and settle.ts build
 * on the SDK transport (test/codec/direct-bodies.test.ts checks them against the SDK's encoder).
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range, crc8Uint32 } from '../../../codec/checksum.js';
import * as M from '../../../codec/messages.js';
import { HEADER, Tag, VariantType } from '../../../codec/plain-buffer-format.js';
import { encodeMessage } from '../../../codec/protobuf.js';
import type { ResolvedColumns } from '../row-layout.js';
import type { RangeQuery, SeqBound } from '../timeline-requests.js';
import { columnBytes, putCellName } from './column-bytes.js';

/**
 * The PlainBuffer primary key `(timelineId, seq)` of a read, as the SDK serialises a key: with a
 * trailing zero byte per INF_MIN / INF_MAX value (the SDK sizes those one byte too large).
 */
export function encodeTimelineKey(columns: ResolvedColumns, timelineId: string, seq: SeqBound): Buffer {
  const names = columnBytes(columns);
  const idLength = Buffer.byteLength(timelineId, 'utf8');
  const marker = typeof seq !== 'bigint';
  const seqCell = 8 + names.seq.bytes.length + (marker ? 6 : 14);
  const out = Buffer.alloc(4 + 1 + 18 + names.timelineId.bytes.length + idLength + seqCell + 2 + (marker ? 1 : 0));
  out.writeUInt32LE(HEADER, 0);
  out[4] = Tag.ROW_PK;
  let p = putCellName(out, 5, names.timelineId);
  out[p] = Tag.CELL_VALUE;
  out.writeUInt32LE(5 + idLength, p + 1);
  out[p + 5] = VariantType.STRING;
  out.writeUInt32LE(idLength, p + 6);
  out.write(timelineId, p + 10, idLength, 'utf8');
  const idCrc = crc8Range(crc8Uint32(crc8Byte(names.timelineId.crc, VariantType.STRING), idLength), out, p + 10, p + 10 + idLength);
  p += 10 + idLength;
  out[p++] = Tag.CELL_CHECKSUM;
  out[p++] = idCrc;
  p = putCellName(out, p, names.seq);
  out[p++] = Tag.CELL_VALUE;
  let seqCrc: number;
  if (marker) {
    const type = seq === 'min' ? VariantType.INF_MIN : VariantType.INF_MAX;
    out.writeUInt32LE(1, p);
    out[p + 4] = type;
    seqCrc = crc8Byte(names.seq.crc, type);
    p += 5;
  } else {
    out.writeUInt32LE(9, p);
    out[p + 4] = VariantType.INTEGER;
    // Two's complement, as the SDK's `Long.fromString(seq.toString())` holds it.
    out.writeBigInt64LE(BigInt.asIntN(64, seq), p + 5);
    seqCrc = crc8Range(crc8Byte(names.seq.crc, VariantType.INTEGER), out, p + 5, p + 13);
    p += 13;
  }
  out[p++] = Tag.CELL_CHECKSUM;
  out[p++] = seqCrc;
  out[p++] = Tag.ROW_CHECKSUM;
  out[p] = crc8Byte(crc8Byte(crc8Byte(0, idCrc), seqCrc), 0);
  return out;
}

/** The GetRange body of one page of a timeline (max versions 1). */
export function encodeGetRangeBody(table: string, columns: ResolvedColumns, query: RangeQuery): Buffer {
  return encodeMessage(M.GetRangeRequest, {
    table_name: table,
    direction: query.forward ? M.Direction.FORWARD : M.Direction.BACKWARD,
    columns_to_get: query.columnsToGet === undefined ? undefined : [...query.columnsToGet],
    max_versions: 1,
    limit: query.limit,
    inclusive_start_primary_key: encodeTimelineKey(columns, query.timelineId, query.start),
    exclusive_end_primary_key: encodeTimelineKey(columns, query.timelineId, query.end),
  });
}

/** The GetRow body of one entry (max versions 1). */
export function encodeGetRowBody(table: string, columns: ResolvedColumns, timelineId: string, seq: bigint): Buffer {
  return encodeMessage(M.GetRowRequest, { table_name: table, primary_key: encodeTimelineKey(columns, timelineId, seq), max_versions: 1 });
}
