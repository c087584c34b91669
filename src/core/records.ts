import type { EnsureTableOptions, TableDescription, TableSpec } from './backend.js';
import type { TimelineError } from './errors.js';

/**
 * Keyed records: small rows addressed by `(partition, key)` strings in a table of their own, with
 * conditional writes. Timelines are append-only queues; the state around them (a send journal,
 * read positions, a conversation list) needs rows that are found by name, replaced under a
 * condition and listed in key order within a partition. This is the optional backend capability
 * for that state. A backend without it leaves {@link TimelineBackend.records} undefined, and the
 * features that need it say so when they are constructed.
 *
 * Layout on TableStore: primary key `(partition STRING, key STRING)`, the value as a BINARY
 * column and the version as a STRING column; conditions map to row-existence expectations and a
 * column condition on the version.
 */
export interface RecordBackend {
  /** What the record side of this backend accepts. */
  readonly recordLimits: RecordLimits;
  /**
   * Create the record table if missing; verify its layout; reconcile its TTL exactly as
   * {@link TimelineBackend.ensureTable} does for timeline tables (same options, same errors).
   */
  ensureRecordTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription>;
  /**
   * Apply several writes, possibly to several partitions of one table, in one request. Each
   * write is checked and applied on its own (not a transaction): resolves with one result per
   * write, in input order. At most `maxBatchWrites` writes. Rejects only when the call as a whole
   * failed and no write is known to be applied.
   */
  writeRecords(table: string, writes: readonly RecordWrite[], options?: RecordCallOptions): Promise<RecordWriteResult[]>;
  /** Read one record; undefined when absent or expired. */
  getRecord(table: string, partition: string, key: string, options?: RecordCallOptions): Promise<StoredRecord | undefined>;
  /** Read one page of a partition's records in key order (byte order of the UTF-8 keys). */
  scanRecords(table: string, request: RecordScanRequest): Promise<RecordScanPage>;
}

/** Limits of a {@link RecordBackend}. */
export interface RecordLimits {
  /** Most writes one {@link RecordBackend.writeRecords} call accepts (TableStore: 200). */
  readonly maxBatchWrites: number;
  /** Most bytes of one record's value (TableStore: 2 MB per attribute value). */
  readonly maxValueBytes: number;
  /** Most UTF-8 bytes of a partition or a key (TableStore: 1024 per primary-key column). */
  readonly maxKeyBytes: number;
  /** Most records one {@link RecordBackend.scanRecords} call returns (TableStore: 5000). */
  readonly maxScanPageRecords: number;
}

/**
 * What must hold for a write to apply. `'absent'`: no live record at that key (a claim);
 * `'present'`: a live record (an update that must never create); `{ version }`: the live record's
 * version is exactly this one (compare-and-set); `{ versionBelow }`: there is no live record, or
 * its version sorts strictly before this string in the byte order of UTF-8 (a monotonic put: with
 * versions that start with a fixed-width position, a stale writer can never move a record back,
 * in one request and without reading it first). Undefined: unconditional.
 */
export type RecordExpectation = 'absent' | 'present' | RecordVersionExpectation | RecordVersionBelowExpectation;

/** A compare-and-set expectation: the live record's version is exactly `version`. */
export interface RecordVersionExpectation {
  /** The version the live record must have. */
  readonly version: string;
}

/** A monotonic expectation: no live record, or one whose version sorts strictly before `versionBelow` (UTF-8 bytes). */
export interface RecordVersionBelowExpectation {
  /** There must be no live record, or its version must sort strictly before this one. */
  readonly versionBelow: string;
}

/** One write of {@link RecordBackend.writeRecords}. */
export type RecordWrite = RecordPut | RecordDelete;

/** Put a record: replace its value and version as a whole. */
export interface RecordPut {
  /** Always `'put'`. */
  readonly type: 'put';
  /** The partition (e.g. a user id). */
  readonly partition: string;
  /** The key within the partition (e.g. a conversation id). */
  readonly key: string;
  /** The encoded value. The backend must copy it if it keeps it beyond the call. */
  readonly value: Uint8Array;
  /**
   * The record's new version: an opaque token chosen by the caller, unique per write (e.g.
   * random). Because the caller knows it before sending, it can settle a write whose answer was
   * lost by reading the record back and comparing versions.
   */
  readonly version: string;
  /** What must hold for the put to apply. Default: unconditional. */
  readonly expect?: RecordExpectation;
}

/** Delete a record. Deleting an absent record without an expectation succeeds. */
export interface RecordDelete {
  /** Always `'delete'`. */
  readonly type: 'delete';
  /** The partition. */
  readonly partition: string;
  /** The key within the partition. */
  readonly key: string;
  /** What must hold for the delete to apply. Default: unconditional. */
  readonly expect?: RecordExpectation;
}

/**
 * The outcome of one write: applied; not applied because its expectation did not hold
 * (`conflict`, never retryable: read the record and decide); or failed (`error.retryable` says
 * whether re-sending may succeed; a `WriteUncertainError` means it may have been applied).
 */
export type RecordWriteResult = RecordWriteApplied | RecordWriteConflict | RecordWriteFailed;

/** A write that was applied. */
export interface RecordWriteApplied {
  /** Always true. */
  readonly ok: true;
}

/** A write not applied because its expectation did not hold. */
export interface RecordWriteConflict {
  /** Always false. */
  readonly ok: false;
  /** Always true: the expectation did not hold (not retryable; read the record and decide). */
  readonly conflict: true;
}

/** A write that failed, or whose outcome is unknown (`WriteUncertainError`). */
export interface RecordWriteFailed {
  /** Always false. */
  readonly ok: false;
  /** Always false: the expectation was not the reason. */
  readonly conflict: false;
  /** Why; `error.retryable` says whether re-sending may succeed. */
  readonly error: TimelineError;
}

/** A stored record. */
export interface StoredRecord {
  /** Its partition. */
  readonly partition: string;
  /** Its key. */
  readonly key: string;
  /** The encoded value. */
  readonly value: Uint8Array;
  /** The version given by the write that stored it. */
  readonly version: string;
}

/** Options of the single-record calls. */
export interface RecordCallOptions {
  /** Stops the call. */
  readonly signal?: AbortSignal;
}

/** One page request of {@link RecordBackend.scanRecords}. */
export interface RecordScanRequest {
  /** The partition to list. */
  readonly partition: string;
  /** Inclusive lower bound of the keys. Default: the partition's first key. */
  readonly start?: string;
  /** Exclusive upper bound of the keys. Default: past the partition's last key. */
  readonly end?: string;
  /** Most records to return, 1 to `maxScanPageRecords`. */
  readonly limit: number;
  /** Stops the call. */
  readonly signal?: AbortSignal;
}

/** One page of {@link RecordBackend.scanRecords}. */
export interface RecordScanPage {
  /** Records in key order. May be shorter than the limit while `next` is set. */
  readonly records: readonly StoredRecord[];
  /** Inclusive start key of the next page, or undefined when the range is done. */
  readonly next?: string;
}
