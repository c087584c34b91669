import type { AppendRow, BackendCapabilities } from './backend.js';
import { utf8Length } from './utf8.js';

/** The limits one append request must respect. */
export type BatchLimits = Pick<BackendCapabilities, 'maxBatchRows' | 'maxBatchBytes'>;

/** Bytes a row counts for against a backend's `maxBatchBytes`. */
export function estimateRowBytes(row: AppendRow, capabilities: Pick<BackendCapabilities, 'rowOverheadBytes'>): number {
  return (
    capabilities.rowOverheadBytes +
    row.payload.byteLength +
    utf8Length(row.timelineId) +
    (row.messageId === undefined ? 0 : utf8Length(row.messageId))
  );
}

/**
 * The one batch-splitting rule of the library: consecutive items, in order, into requests of at
 * most `maxBatchRows` items and `maxBatchBytes` bytes (an item larger than the byte limit goes
 * alone). Returns the boundaries `[0, b1, ..., count]`: request `c` holds items `b[c]` to
 * `b[c + 1] - 1`. `sizeOf(i)` is item `i`'s size in bytes.
 *
 * @example
 * ```ts
 * batchBounds(5, () => 10, { maxBatchRows: 2, maxBatchBytes: 1000 }); // [0, 2, 4, 5]
 * ```
 */
export function batchBounds(count: number, sizeOf: (index: number) => number, limits: BatchLimits): number[] {
  const { maxBatchRows, maxBatchBytes } = limits;
  const bounds = [0];
  let start = 0;
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const size = sizeOf(index);
    if (index > start && (index - start >= maxBatchRows || bytes + size > maxBatchBytes)) {
      bounds.push(index);
      start = index;
      bytes = 0;
    }
    bytes += size;
  }
  if (count > 0) bounds.push(count);
  return bounds;
}

/** Splits row indexes into chunks of at most `maxBatchRows` rows and `maxBatchBytes` bytes (see {@link batchBounds}). */
export function splitIntoChunks(rows: readonly AppendRow[], capabilities: BatchLimits & Pick<BackendCapabilities, 'rowOverheadBytes'>): number[][] {
  const bounds = batchBounds(rows.length, (i) => estimateRowBytes(rows[i]!, capabilities), capabilities);
  const chunks: number[][] = [];
  for (let c = 0; c + 1 < bounds.length; c++) {
    const chunk: number[] = [];
    for (let i = bounds[c]!; i < bounds[c + 1]!; i++) chunk.push(i);
    chunks.push(chunk);
  }
  return chunks;
}
