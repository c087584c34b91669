import createDebug from 'debug';
import pLimit from 'p-limit';
import { TimelineError, ValidationError } from '../core/errors.js';
import { TimelineStore } from '../core/timeline-store.js';
import type { Seq, TimelineEntry } from '../core/types.js';
import { checkMessageId, checkOptionalPositiveInteger, checkOptionsObject, checkSignal, checkTimelineId } from '../core/validate.js';
import { checkDedupeWindow, checkOptionalBoolean, checkTimelineIds, describe, findInTail, toTimelineError } from './internal.js';
import { SyncTimeline } from './sync-timeline.js';

const log = createDebug('tablestore-timeline:fanout');

/** Default number of backend write requests in flight during a fan-out. */
export const DEFAULT_FAN_OUT_CONCURRENCY = 16;

/** Options of {@link fanOut}. */
export interface FanOutOptions {
  /**
   * The message's id, stored with every inbox entry. Needed to retry safely: {@link retryFanOut}
   * and `skipExisting` find already-written entries by it.
   */
  messageId?: string;
  /**
   * Backend write requests in flight at once (each carries up to the backend's `maxBatchRows`
   * rows: 200 on TableStore). Also bounds the tail reads of `skipExisting`.
   * @default 16
   */
  concurrency?: number;
  /**
   * Stops the fan-out: requests not yet sent are not sent, and their receivers are reported in
   * `failed` with an `AbortedError`.
   */
  signal?: AbortSignal;
  /**
   * Before writing, look for `messageId` among the newest `dedupeWindow` entries of each
   * receiver's inbox, and do not write to the receivers that already hold it (they are reported
   * as delivered, with the seq found). Costs one read per receiver. Requires `messageId`.
   * @default false
   */
  skipExisting?: boolean;
  /**
   * How many of the newest inbox entries `skipExisting` searches. An entry pushed further back by
   * later messages is not found, and the message would be written again.
   * @default 100
   */
  dedupeWindow?: number;
}

/** Options of {@link retryFanOut}: those of {@link fanOut} except the message id (taken from the result). */
export type RetryFanOutOptions = Omit<FanOutOptions, 'messageId' | 'skipExisting'>;

/** A receiver whose inbox holds the message. */
export interface FanOutDelivery {
  /** The receiver (its inbox timeline id). */
  readonly receiverId: string;
  /** The seq of the message in the receiver's inbox. */
  readonly seq: Seq;
}

/** A receiver whose inbox could not be written (or checked). */
export interface FanOutFailure {
  /** The receiver (its inbox timeline id). */
  readonly receiverId: string;
  /** Why; `error.retryable` says whether a retry may succeed. */
  readonly error: TimelineError;
}

/** The outcome of a fan-out: every distinct receiver is in exactly one of the two lists. */
export interface FanOutResult {
  /** The message id the fan-out wrote with (needed by {@link retryFanOut}). */
  readonly messageId: string | undefined;
  /** Receivers whose inbox holds the message, in the order they were given. */
  readonly delivered: FanOutDelivery[];
  /** Receivers whose write failed, in the order they were given. */
  readonly failed: FanOutFailure[];
}

/** @internal Options of {@link deliver}. */
export interface DeliverOptions<T> {
  messageId: string | undefined;
  concurrency: number;
  signal: AbortSignal | undefined;
  skipExisting: boolean;
  dedupeWindow: number;
  /** Narrows what counts as "already holds the message" beyond the message id. */
  matches?: (entry: TimelineEntry<T>) => boolean;
  /** Prefix of parameter names in validation errors of the message. */
  messageParameter: string;
  /** Receives the number of rows this call wrote (not counting inboxes found to hold the message). */
  onWritten?: (rows: number) => void;
}

function storeOf<T>(inbox: unknown): TimelineStore<T> {
  if (inbox instanceof SyncTimeline) return inbox.store as TimelineStore<T>;
  if (inbox instanceof TimelineStore) return inbox as TimelineStore<T>;
  throw new ValidationError('inbox', `Expected \`inbox\` to be a SyncTimeline (or a TimelineStore), got ${describe(inbox)}`);
}

function checkFanOutOptions(options: unknown): Omit<DeliverOptions<unknown>, 'messageParameter'> {
  const opts = checkOptionsObject(options) as FanOutOptions;
  const messageId = checkMessageId(opts.messageId, 'options.messageId');
  const concurrency = checkOptionalPositiveInteger(opts.concurrency, 'options.concurrency') ?? DEFAULT_FAN_OUT_CONCURRENCY;
  const signal = checkSignal(opts.signal);
  const skipExisting = checkOptionalBoolean(opts.skipExisting, 'options.skipExisting') ?? false;
  const dedupeWindow = checkDedupeWindow(opts.dedupeWindow);
  if (skipExisting && messageId === undefined) {
    throw new ValidationError('options.skipExisting', '`options.skipExisting` needs `options.messageId`: the existing entries are found by it');
  }
  return { messageId, concurrency, signal, skipExisting, dedupeWindow };
}

/**
 * Write one message into many receivers' inboxes (write diffusion), in as few backend requests as
 * the backend allows (`store.appendBatch`: 200 rows per request on TableStore, so 1,000 receivers
 * take 5 requests), with bounded concurrency.
 *
 * Duplicate receiver ids are written once. Never throws for a per-receiver failure: each distinct
 * receiver ends up in `delivered` or in `failed`. To retry the failed ones without duplicating
 * anything, pass the result to {@link retryFanOut}.
 *
 * @example
 * ```ts
 * let result = await fanOut(inbox, memberIds, message, { messageId: 'm-42' });
 * for (let attempt = 0; result.failed.length > 0 && attempt < 3; attempt++) {
 *   result = await retryFanOut(inbox, result, message);
 * }
 * ```
 * @throws {ValidationError} for an invalid `inbox`, `receiverIds`, message or option; nothing is written.
 */
export async function fanOut<T>(inbox: SyncTimeline<T> | TimelineStore<T>, receiverIds: readonly string[], message: T, options?: FanOutOptions): Promise<FanOutResult> {
  const store = storeOf<T>(inbox);
  const receivers = checkTimelineIds(receiverIds, 'receiverIds');
  return deliver(store, receivers, message, { ...checkFanOutOptions(options), messageParameter: 'message' });
}

/**
 * Retry the failed receivers of a {@link fanOut} result with the same message id, without
 * duplicating: a failed write may have been applied anyway (a timeout, a dropped connection), so
 * each failed receiver's inbox tail is checked for the message id first (one read per failed
 * receiver, within `dedupeWindow`), and only the receivers that do not hold it are written.
 *
 * Returns the combined result: the previously delivered receivers, then the newly delivered
 * ones; `failed` lists what still failed. Pass the same `message` as the original call.
 *
 * @example
 * ```ts
 * const first = await fanOut(inbox, memberIds, message, { messageId: 'm-42' });
 * const second = first.failed.length > 0 ? await retryFanOut(inbox, first, message) : first;
 * ```
 * @throws {ValidationError} when `previous` is not a fan-out result with a `messageId` (a result
 *   without one cannot be retried safely: fan out to `previous.failed` again yourself if duplicates
 *   are acceptable), or for an invalid option; nothing is written.
 */
export async function retryFanOut<T>(
  inbox: SyncTimeline<T> | TimelineStore<T>,
  previous: FanOutResult,
  message: T,
  options?: RetryFanOutOptions,
): Promise<FanOutResult> {
  const store = storeOf<T>(inbox);
  if (previous === null || typeof previous !== 'object' || !Array.isArray(previous.delivered) || !Array.isArray(previous.failed)) {
    throw new ValidationError('previous', `Expected \`previous\` to be the result of fanOut, got ${describe(previous)}`);
  }
  if (previous.messageId === undefined) {
    throw new ValidationError(
      'previous.messageId',
      'Expected `previous.messageId` to be set: only a fan-out with a `messageId` can be retried without duplicating entries whose write was ambiguous',
    );
  }
  const messageId = checkMessageId(previous.messageId, 'previous.messageId');
  // The delivered receivers are returned as they are: they must be deliveries, not anything.
  previous.delivered.forEach((delivery: unknown, i) => {
    const d = delivery as Partial<FanOutDelivery> | null;
    if (d === null || typeof d !== 'object' || typeof d.seq !== 'bigint') {
      throw new ValidationError(`previous.delivered[${i}]`, `Expected \`previous.delivered[${i}]\` to be a delivery { receiverId, seq } of fanOut, got ${describe(delivery)}`);
    }
    checkTimelineId(d.receiverId, `previous.delivered[${i}].receiverId`);
  });
  const receivers = [
    ...new Set(
      previous.failed.map((failure: unknown, i) =>
        checkTimelineId(failure !== null && typeof failure === 'object' ? (failure as FanOutFailure).receiverId : failure, `previous.failed[${i}].receiverId`),
      ),
    ),
  ];
  const opts = checkOptionsObject(options) as FanOutOptions;
  if (opts.messageId !== undefined && opts.messageId !== messageId) {
    throw new ValidationError('options.messageId', 'Expected no `options.messageId`: a retry uses `previous.messageId`');
  }
  const checked = checkFanOutOptions({ ...opts, messageId, skipExisting: true });
  const retried = await deliver(store, receivers, message, { ...checked, messageParameter: 'message' });
  const retriedIds = new Set(receivers);
  return {
    messageId,
    delivered: [...previous.delivered.filter((d) => !retriedIds.has(d.receiverId)), ...retried.delivered],
    failed: retried.failed,
  };
}

/**
 * The fan-out engine shared by {@link fanOut}, {@link retryFanOut} and the Messenger. `receivers`
 * must be distinct and valid.
 * @internal
 */
export async function deliver<T>(store: TimelineStore<T>, receivers: readonly string[], message: T, options: DeliverOptions<T>): Promise<FanOutResult> {
  const { messageId, concurrency, signal } = options;
  const found = new Map<string, Seq>();
  const failures = new Map<string, TimelineError>();
  // Reject a message the inboxes cannot take before anything is read or written: with
  // skipExisting, receivers that already hold the id would otherwise never encode it.
  if (receivers.length > 0) store.validateMessage(message, options.messageParameter);
  if (options.skipExisting && messageId !== undefined && receivers.length > 0) {
    const limit = pLimit(concurrency);
    await Promise.all(
      receivers.map((receiverId) =>
        limit(async () => {
          try {
            const entry = await findInTail(store.timeline(receiverId), messageId, options.dedupeWindow, signal, options.matches);
            if (entry !== undefined) found.set(receiverId, entry.seq);
          } catch (error) {
            // Unknown whether the inbox holds it: do not write, report it so that a retry checks again.
            failures.set(receiverId, toTimelineError(error, 'fanOut', receiverId));
          }
        }),
      ),
    );
  }
  const toWrite = receivers.filter((id) => !found.has(id) && !failures.has(id));
  const written = new Map<string, Seq>();
  if (toWrite.length > 0) {
    let outcomes;
    try {
      outcomes = await store.appendBatch(
        toWrite.map((timelineId) => (messageId === undefined ? { timelineId, message } : { timelineId, message, messageId })),
        { concurrency, signal },
      );
    } catch (error) {
      if (error instanceof ValidationError) throw renameParameter(error, options.messageParameter);
      // Not a per-row failure (a closed store, a failed table initialisation): it applies to every receiver.
      const wrapped = toTimelineError(error, 'fanOut');
      outcomes = toWrite.map(() => ({ ok: false as const, error: wrapped }));
    }
    outcomes.forEach((outcome, i) => {
      const receiverId = toWrite[i]!;
      if (outcome.ok) written.set(receiverId, outcome.entry.seq);
      else failures.set(receiverId, outcome.error);
    });
  }
  options.onWritten?.(written.size);
  const result: FanOutResult = { messageId, delivered: [], failed: [] };
  for (const receiverId of receivers) {
    const seq = found.get(receiverId) ?? written.get(receiverId);
    if (seq !== undefined) result.delivered.push({ receiverId, seq });
    else result.failed.push({ receiverId, error: failures.get(receiverId)! });
  }
  log(
    'table %s, message %s: %d receivers, %d already held it, %d written, %d failed',
    store.table,
    messageId ?? '(no id)',
    receivers.length,
    found.size,
    written.size,
    result.failed.length,
  );
  return result;
}

// appendBatch names the item (`items[3].message`); every item carries the caller's one message.
function renameParameter(error: ValidationError, parameter: string): ValidationError {
  const match = /^items\[\d+\]\.message(.*)$/.exec(error.parameter);
  if (match === null) return error;
  const renamed = `${parameter}${match[1]}`;
  return new ValidationError(renamed, error.message.split(error.parameter).join(renamed), {
    code: error.code as 'INVALID_ARGUMENT' | 'MESSAGE_TOO_LARGE' | 'CODEC',
    cause: error,
    table: error.table,
  });
}
