import type { TimelineError } from './errors.js';
import type { EntryMutations } from './mutations.js';
import type { RecordBackend } from './records.js';
import type { ScanDirection, Seq } from './types.js';

// The backend interface and the types it exchanges. Helpers live elsewhere (batches.ts, utf8.ts).

/**
 * What a backend can do and the service limits it enforces, declared once so that
 * {@link TimelineStore} validates and splits in one place instead of every backend re-implementing
 * it. A backend declares only what differs from the defaults (`DEFAULT_CAPABILITIES`): its
 * `capabilities` member is a `Partial<BackendCapabilities>`, and the core reads the resolved values.
 */
export interface BackendCapabilities {
  /** A short name for messages and logs, e.g. `'memory'` or `'tablestore'`. */
  readonly name: string;
  /** Most rows one {@link TimelineBackend.append} call accepts (TableStore: 200). */
  readonly maxBatchRows: number;
  /**
   * Most bytes one {@link TimelineBackend.append} call accepts, counted as
   * `estimateRowBytes` (TableStore: 4 MB per request, minus headroom).
   */
  readonly maxBatchBytes: number;
  /** Most bytes of one encoded message (TableStore: 2 MB per attribute value). */
  readonly maxMessageBytes: number;
  /** Most rows one {@link TimelineBackend.scan} call returns (TableStore: 5000). */
  readonly maxScanPageRows: number;
  /**
   * How late, in seconds, an expired entry may still be visible. 0 means expiry is exact at read
   * time. Tests of TTL use it instead of assuming exactness.
   */
  readonly ttlGranularitySeconds: number;
  /**
   * True when rows of one timeline within one {@link TimelineBackend.append} call receive seqs in
   * input order. When false, {@link TimelineStore} keeps `appendMany`'s order by other means.
   */
  readonly orderedBatches: boolean;
  /** Fixed per-row overhead, in bytes, added by `estimateRowBytes`. */
  readonly rowOverheadBytes: number;
  /** Smallest TTL in seconds other than -1 (forever) the backend accepts (TableStore: 86400). */
  readonly minTtlSeconds?: number;
  /** Largest TTL in seconds the backend accepts (TableStore: 2^31-1, its 32-bit field). */
  readonly maxTtlSeconds?: number;
  /**
   * Table names the backend accepts. Default: an identifier (a letter or underscore, then letters,
   * digits or underscores, at most 255 characters), which is TableStore's rule and also safe to
   * place in SQL unquoted.
   */
  readonly tableNamePattern?: RegExp;
}

/** A table as a backend sees it. */
export interface TableSpec {
  /** Table name. */
  readonly table: string;
  /** Time to live of entries in seconds; -1 keeps them forever. */
  readonly ttlSeconds: number;
}

/** How `ensureTable` treats an existing table whose TTL differs from the spec. */
export type TtlMismatchPolicy = 'update' | 'error';

/** Options of {@link TimelineBackend.ensureTable}. */
export interface EnsureTableOptions {
  /**
   * What to do when the table exists with another TTL: `'error'` rejects with a
   * `TableIncompatibleError` that states both values and leaves the table alone; `'update'`
   * changes the table's TTL (which may delete data, or keep it forever) and must be asked for.
   * @default 'error'
   */
  readonly onTtlMismatch?: TtlMismatchPolicy;
  /** Stops the call before it is sent. */
  readonly signal?: AbortSignal;
}

/** What a backend reports about a table. */
export interface TableDescription {
  /** Table name. */
  readonly table: string;
  /** The table's TTL in seconds after the call; -1 for forever. */
  readonly ttlSeconds: number;
  /** True when `ensureTable` created the table in this call. */
  readonly created: boolean;
  /** True when `ensureTable` changed the table's TTL in this call. */
  readonly ttlUpdated: boolean;
}

/** One row to append. The payload is already encoded by the store's codec. */
export interface AppendRow {
  /** The timeline to append to. */
  readonly timelineId: string;
  /** The encoded message. The backend must copy it if it keeps it beyond the call. */
  readonly payload: Uint8Array;
  /** The caller's idempotency key, stored with the row. */
  readonly messageId?: string;
}

/** One stored row. */
export interface StoredRow {
  /** The timeline the row belongs to. */
  readonly timelineId: string;
  /** The seq assigned at append time. */
  readonly seq: Seq;
  /** The encoded message. */
  readonly payload: Uint8Array;
  /** The idempotency key given at append time, if any. */
  readonly messageId?: string;
}

/** The outcome of one row of an append: its seq, or why it failed. */
export type AppendRowResult = AppendRowSuccess | AppendRowFailure;

/** A row that was appended. */
export interface AppendRowSuccess {
  /** Always true. */
  readonly ok: true;
  /** The seq the backend assigned. */
  readonly seq: Seq;
}

/** A row that was not appended (or whose fate is unknown: see `WriteUncertainError`). */
export interface AppendRowFailure {
  /** Always false. */
  readonly ok: false;
  /** Why; `error.retryable` says whether re-sending may succeed. */
  readonly error: TimelineError;
}

/** Options of {@link TimelineBackend.append}. */
export interface BackendAppendOptions {
  /** Stops the call; rows not yet sent are not sent. */
  readonly signal?: AbortSignal;
}

/** One page request of a range scan within one timeline. */
export interface ScanPageRequest {
  /** The timeline to read. */
  readonly timelineId: string;
  /** Scan order. */
  readonly direction: ScanDirection;
  /** Inclusive start (forward: low end; backward: high end). Undefined: unbounded. */
  readonly from?: Seq;
  /** Exclusive end (forward: high end; backward: low end). Undefined: unbounded. */
  readonly to?: Seq;
  /** Most rows to return, 1 to `maxScanPageRows`. */
  readonly limit: number;
  /** Stops the request. */
  readonly signal?: AbortSignal;
}

/** One page of a range scan. */
export interface ScanPage {
  /** Rows in scan order. May be shorter than the limit, or empty, while `next` is set. */
  readonly rows: readonly StoredRow[];
  /**
   * Inclusive start of the next page in the same direction, or undefined when the range is done.
   */
  readonly next?: Seq;
}

/**
 * What every storage backend implements. Backends deal in encoded payloads and raw seqs; the
 * {@link TimelineStore} above them validates input, encodes, splits batches by the declared
 * {@link BackendCapabilities} and pages scans. A third-party backend proves itself with
 * `describeBackendContract` from `tablestore-timeline/testing`.
 *
 * Implementations must: assign seqs that strictly increase per timeline; keep timelines of
 * different ids and tables isolated; hide entries older than the table's TTL. Closed and aborted
 * checks need not be written: wrap the backend in a `GuardedBackend` (or extend it), which rejects
 * calls after `close()` with a `ClosedError` and calls with a fired signal with an `AbortedError`.
 */
export interface TimelineBackend {
  /** What this backend can do; omitted fields (or all of it) take `DEFAULT_CAPABILITIES`. */
  readonly capabilities?: Partial<BackendCapabilities>;
  /** Create the table if missing; verify its layout; reconcile its TTL. */
  ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription>;
  /**
   * Append rows, possibly of several timelines, in one request. At most `maxBatchRows` rows and
   * `maxBatchBytes` bytes. Resolves with one result per row, in input order; rejects only when
   * the call as a whole failed and no row is known to be applied.
   */
  append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]>;
  /** Read one row by seq; undefined when absent or expired. */
  get(table: string, timelineId: string, seq: Seq, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined>;
  /** Read one page of a range of one timeline. */
  scan(table: string, request: ScanPageRequest): Promise<ScanPage>;
  /** Release resources. Idempotent; later calls reject with a `ClosedError`. */
  close(): Promise<void>;
  /**
   * Keyed records with conditional writes (an optional capability): the send journal and other
   * state beside the timelines live there. Undefined when the backend has none.
   */
  readonly records?: RecordBackend;
  /**
   * In-place update and delete of existing entries (an optional capability, see
   * {@link EntryMutations}). Undefined when the backend has none.
   */
  readonly mutations?: EntryMutations;
}


// Transitional re-exports: the TableStore backend imports these from here until it moves to
// utf8.ts and batches.ts. Not part of the interface.
export { utf8Length } from './utf8.js';
export { estimateRowBytes, splitIntoChunks } from './batches.js';
