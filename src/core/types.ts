/**
 * A sequence id: an exact signed 64-bit integer, increasing (not necessarily consecutive) within a
 * timeline. Seqs of different timelines are unrelated.
 */
export type Seq = bigint;

/** One entry of a timeline, as returned by reads and appends. */
export interface TimelineEntry<T> {
  /** The timeline the entry belongs to. */
  readonly timelineId: string;
  /** The sequence id assigned by the backend when the entry was appended. */
  readonly seq: Seq;
  /** The decoded message. */
  readonly message: T;
  /** The caller's idempotency key, if one was given at append time. */
  readonly messageId?: string;
}

/** Direction of a range scan. */
export type ScanDirection = 'forward' | 'backward';

/** Options of {@link Timeline.scan}. */
export interface ScanOptions {
  /**
   * Inclusive start. Forward: the lowest seq returned (default: the beginning). Backward: the
   * highest seq returned (default: the end).
   */
  from?: Seq;
  /**
   * Exclusive end. Forward: scanning stops before this seq (default: the end). Backward: scanning
   * stops before reaching this seq, i.e. every returned seq is greater than `to` (default: the
   * beginning).
   */
  to?: Seq;
  /**
   * Scan order.
   * @default 'forward'
   */
  direction?: ScanDirection;
  /** Total number of entries to return at most (a positive integer). Default: no limit. */
  limit?: number;
  /**
   * Rows fetched per backend request (a positive integer). Capped by the backend's
   * `maxScanPageRows`. Default: the smaller of `limit` and the backend's maximum.
   */
  pageSize?: number;
  /** Stops the scan: the iterator rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/**
 * Options of a single append: `Timeline.append`, `StoreTimeline.append` and `SyncTimeline.push`.
 */
export interface AppendOptions {
  /**
   * The caller's idempotency key, stored with the entry. Backends use it to make ambiguous writes
   * safe to re-send (see docs/guarantees.md); the IM helpers use it to deduplicate.
   */
  messageId?: string;
  /** Stops the call before it is sent: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** Encodes messages to bytes for storage and decodes them back. */
export interface Codec<T> {
  /** Encode a message. Throw (any error) if it cannot be represented exactly. */
  encode(message: T): Uint8Array;
  /** Decode bytes produced by {@link Codec.encode}. */
  decode(bytes: Uint8Array): T;
}
