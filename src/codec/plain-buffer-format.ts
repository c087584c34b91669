/**
 * PlainBuffer's constants and value types, shared by the reader (plain-buffer-reader.ts) and the writer
 * (plain-buffer-writer.ts).
 *
 * @packageDocumentation
 */

/** The PlainBuffer header value. */
export const HEADER = 0x75;

/** PlainBuffer tags. */
export const Tag = {
  ROW_PK: 0x01,
  ROW_DATA: 0x02,
  CELL: 0x03,
  CELL_NAME: 0x04,
  CELL_VALUE: 0x05,
  CELL_TYPE: 0x06,
  CELL_TIMESTAMP: 0x07,
  DELETE_ROW_MARKER: 0x08,
  ROW_CHECKSUM: 0x09,
  CELL_CHECKSUM: 0x0a,
} as const;

/** Cell operation bytes (after `TAG_CELL_TYPE`). */
export const CellOp = {
  DELETE_ALL_VERSIONS: 0x01,
  DELETE_ONE_VERSION: 0x03,
  INCREMENT: 0x04,
} as const;

/** Variant type bytes. */
export const VariantType = {
  INTEGER: 0x00,
  DOUBLE: 0x01,
  BOOLEAN: 0x02,
  STRING: 0x03,
  NULL: 0x06,
  BLOB: 0x07,
  INF_MIN: 0x09,
  INF_MAX: 0x0a,
  AUTO_INCREMENT: 0x0b,
} as const;

/** A value carried by a PlainBuffer cell. Integers are exact `bigint`s. */
export type PlainValue =
  | { readonly type: 'INTEGER'; readonly value: bigint }
  | { readonly type: 'DOUBLE'; readonly value: number }
  | { readonly type: 'BOOLEAN'; readonly value: boolean }
  | { readonly type: 'STRING'; readonly value: string }
  | { readonly type: 'BINARY'; readonly value: Buffer }
  | { readonly type: 'NULL' }
  | { readonly type: 'INF_MIN' }
  | { readonly type: 'INF_MAX' }
  | { readonly type: 'AUTO_INCREMENT' };

/** One cell of a decoded or to-be-encoded row. */
export interface PlainCell {
  readonly name: string;
  readonly value?: PlainValue | undefined;
  /** One of {@link CellOp}, when present. */
  readonly op?: number | undefined;
  /** Version timestamp in milliseconds. */
  readonly timestamp?: bigint | undefined;
}

/** A decoded or to-be-encoded row. */
export interface PlainRow {
  readonly primaryKey: readonly PlainCell[];
  readonly attributes: readonly PlainCell[];
  readonly deleteMarker: boolean;
}

/** Thrown for malformed PlainBuffer input (bad tag, truncated data, checksum mismatch). */
export class PlainBufferError extends Error {
  override readonly name = 'PlainBufferError';
}
