/**
 * The column names of a timeline table as the direct encoders and decoders use them: their UTF-8
 * bytes and CRC-8, computed once per backend instead of once per cell.
 *
 * @packageDocumentation
 */
import { crc8Range } from '../../../codec/checksum.js';
import { Tag } from '../../../codec/plain-buffer-format.js';
import type { ResolvedColumns } from '../row-layout.js';

/** A column name's bytes and checksum. */
export interface NameBytes {
  readonly name: string;
  readonly bytes: Buffer;
  readonly crc: number;
}

/** The names of one timeline table's columns. */
export interface TimelineColumnBytes {
  readonly timelineId: NameBytes;
  readonly seq: NameBytes;
  readonly payload: NameBytes;
  readonly messageId: NameBytes;
  readonly writeId: NameBytes;
  /** `<payload>_<index>`: the column of the payload's chunk `index` (≥ 1) past 1 MiB. */
  chunk(index: number): NameBytes;
}

/** Bytes and checksum of one name (column names are ASCII identifiers, see column-names.ts). */
export function nameBytes(name: string): NameBytes {
  const bytes = Buffer.from(name, 'utf8');
  return { name, bytes, crc: crc8Range(0, bytes, 0, bytes.length) };
}

const cache = new WeakMap<ResolvedColumns, TimelineColumnBytes>();

/** The names of `columns`, computed once per resolved columns object. */
export function columnBytes(columns: ResolvedColumns): TimelineColumnBytes {
  let known = cache.get(columns);
  if (known === undefined) {
    const chunks: NameBytes[] = [];
    const payload = nameBytes(columns.payload);
    known = {
      timelineId: nameBytes(columns.timelineId),
      seq: nameBytes(columns.seq),
      payload,
      messageId: nameBytes(columns.messageId),
      writeId: nameBytes(columns.writeId),
      chunk: (index) => (index === 0 ? payload : (chunks[index] ??= nameBytes(`${columns.payload}_${index}`))),
    };
    cache.set(columns, known);
  }
  return known;
}

/**
 * Writes `TAG_CELL` and the cell's name (tag, little-endian length, bytes) at `at`, as every
 * PlainBuffer cell of the direct request bodies starts; returns where the cell's value goes.
 */
export function putCellName(out: Buffer, at: number, name: NameBytes): number {
  const bytes = name.bytes;
  const m = bytes.length;
  out[at] = Tag.CELL;
  out[at + 1] = Tag.CELL_NAME;
  out.writeUInt32LE(m, at + 2);
  const p = at + 6;
  // A byte loop: names are short, and a loop costs less than a native copy for a few bytes.
  for (let i = 0; i < m; i++) out[p + i] = bytes[i] as number;
  return p + m;
}
