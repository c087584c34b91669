// The public types of the send journal ({@link MessengerOptions.journal}) and of recovery
// ({@link Messenger.recover}). No logic here.
/** Options of the send journal ({@link MessengerOptions.journal}). */
export interface JournalOptions {
  /**
   * The record table. Created by {@link Messenger.init} (or lazily by the first send).
   * @default `${storeTable}_journal`
   */
  table?: string;
  /**
   * How long a finished send is remembered, in seconds: a re-send within it is answered from the
   * journal. -1 (forever) or at least 86400 (TableStore's rule).
   * @default 604800 (7 days)
   */
  ttlSeconds?: number;
  /**
   * How long a claim is exclusive, in milliseconds. After it, another Messenger may take the send
   * over (finish it, or release it for the client's re-send). Longer than any send takes; a send
   * that runs long renews it.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * How long a send of a message that another caller is sending right now waits for that caller
   * to finish, in milliseconds, before it rejects with `SEND_IN_PROGRESS` (retryable). 0: reject
   * at once.
   * @default 10000
   */
  claimWaitMs?: number;
}

/** What {@link Messenger.recover} did. */
export interface RecoverResult {
  /** Unfinished sends found in the journal. */
  readonly pending: number;
  /** Sends this call finished (fan-out completed and journaled). */
  readonly completed: number;
  /** Claims this call released because their owner died before storing the message. */
  readonly released: number;
  /** Sends left alone: still within their lease, or taken by another recoverer first. */
  readonly skipped: number;
  /** Stale hints removed (their send had finished). */
  readonly cleaned: number;
  /** Inbox rows this call wrote. */
  readonly rowsWritten: number;
}

/** Options of {@link Messenger.recover}. */
export interface RecoverOptions {
  /** Stops the pass between sends. */
  signal?: AbortSignal;
}
