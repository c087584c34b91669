import type { Seq } from './types.js';

/**
 * In-place changes of existing entries (an optional backend capability): replacing an entry's
 * message and deleting an entry, both by seq, both idempotent, neither ever creating an entry. The
 * IM layer's recall and edit need it. A backend without it leaves
 * {@link TimelineBackend.mutations} undefined; `Timeline.update` and `Timeline.delete` then reject
 * with `NOT_SUPPORTED`, and the features that need them say so when they are constructed.
 *
 * On TableStore: UpdateRow with the row-existence expectation EXPECT_EXIST (never an upsert) and
 * DeleteRow.
 */
export interface EntryMutations {
  /**
   * Replace the payload of the entry at `seq`, keeping its seq and message id. Rejects with a
   * `TimelineError` of code `NOT_FOUND` when there is no such entry (never written, deleted or
   * expired), and creates nothing. Idempotent: the same update twice leaves the same entry. The
   * entry's time to live starts again from the update.
   */
  update(table: string, timelineId: string, seq: Seq, payload: Uint8Array, options?: MutationCallOptions): Promise<void>;
  /**
   * Delete the entry at `seq`. Idempotent: deleting an absent entry succeeds. Later appends never
   * reuse the seq.
   */
  delete(table: string, timelineId: string, seq: Seq, options?: MutationCallOptions): Promise<void>;
}

/** Options of the {@link EntryMutations} calls. */
export interface MutationCallOptions {
  /** Stops the call before it is sent. */
  readonly signal?: AbortSignal;
}
