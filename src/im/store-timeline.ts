import { ValidationError } from '../core/errors.js';
import { TimelineStore } from '../core/timeline-store.js';
import type { AppendOptions, Seq, TimelineEntry } from '../core/types.js';
import {
  checkMessageId,
  checkOptionalPositiveInteger,
  checkOptionalSeq,
  checkOptionsObject,
  checkSeq,
  checkSignal,
  checkTimelineId,
} from '../core/validate.js';
import { after, readPage } from './internal.js';

/** Default page size of {@link StoreTimeline.page} and {@link StoreTimeline.since}. */
const DEFAULT_PAGE_LIMIT = 50;

/** Options of {@link StoreTimeline.page}. */
export interface HistoryPageOptions {
  /**
   * Exclusive upper bound: only entries with a smaller seq are returned. Pass the previous page's
   * `next` to continue. Default: start from the newest entry.
   */
  before?: Seq;
  /**
   * Most entries to return (a positive integer).
   * @default 50
   */
  limit?: number;
  /** Stops the read: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** Options of {@link StoreTimeline.since}. */
export interface HistorySinceOptions {
  /**
   * Exclusive lower bound: only entries with a larger seq are returned. Pass the previous result's
   * `next` to continue. Default: start from the oldest entry.
   */
  after?: Seq;
  /**
   * Most entries to return (a positive integer).
   * @default 50
   */
  limit?: number;
  /** Stops the read: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** One page of a conversation's history. */
export interface HistoryPage<E> {
  /** The entries: newest first for {@link StoreTimeline.page}, oldest first for {@link StoreTimeline.since}. */
  readonly entries: E[];
  /**
   * What to pass to continue: as `before` to `page` (undefined when there is nothing older), or
   * as `after` to `since` (the last seq returned, or the given `after` when nothing was returned,
   * so that it can be polled).
   */
  readonly next: Seq | undefined;
  /** True when more entries exist beyond this page in the reading direction. */
  readonly hasMore: boolean;
}

/**
 * The message store: one timeline per conversation (a 1:1 chat or a group) that keeps every
 * message, for roaming. Use a {@link TimelineStore} without TTL (or a long retention).
 *
 * @example
 * ```ts
 * import { MemoryBackend, StoreTimeline, TimelineStore } from 'tablestore-timeline';
 *
 * const history = new StoreTimeline(new TimelineStore<{ text: string }>({ backend: new MemoryBackend(), table: 'im_store' }));
 * await history.append('group:1', { text: 'hi' }, { messageId: 'm-1' });
 * let page = await history.page('group:1', { limit: 50 });           // newest first
 * while (page.hasMore) page = await history.page('group:1', { before: page.next, limit: 50 });
 * ```
 */
export class StoreTimeline<T> {
  /** The underlying store (one table; timeline id = conversation id). */
  readonly store: TimelineStore<T>;

  /**
   * @throws {ValidationError} when `store` is not a `TimelineStore`.
   */
  constructor(store: TimelineStore<T>) {
    if (!(store instanceof TimelineStore)) {
      throw new ValidationError('store', 'Expected `store` to be a TimelineStore (e.g. `new TimelineStore({ backend, table })`)');
    }
    this.store = store;
  }

  /**
   * Append a message to a conversation's timeline. Not deduplicated by itself: `Messenger.send`
   * checks the tail for the message id first.
   *
   * @throws {ValidationError} for an invalid `conversationId`, `options.messageId` or a message the
   *   codec cannot encode; nothing is written.
   * @throws {BackendError} when the backend fails.
   */
  async append(conversationId: string, message: T, options?: AppendOptions): Promise<TimelineEntry<T>> {
    checkTimelineId(conversationId, 'conversationId');
    const opts = checkOptionsObject(options) as AppendOptions;
    const messageId = checkMessageId(opts.messageId, 'options.messageId');
    const signal = checkSignal(opts.signal);
    return this.store.timeline(conversationId).append(message, { messageId, signal });
  }

  /**
   * Read a conversation's history newest first, one page at a time (roaming).
   *
   * @example
   * ```ts
   * const first = await history.page('group:1', { limit: 20 });
   * const second = await history.page('group:1', { before: first.next, limit: 20 });
   * ```
   * @throws {ValidationError} for an invalid `conversationId`, `options.before` or `options.limit`.
   */
  async page(conversationId: string, options?: HistoryPageOptions): Promise<HistoryPage<TimelineEntry<T>>> {
    checkTimelineId(conversationId, 'conversationId');
    const opts = checkOptionsObject(options) as HistoryPageOptions;
    const before = checkOptionalSeq(opts.before, 'options.before');
    const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit') ?? DEFAULT_PAGE_LIMIT;
    const signal = checkSignal(opts.signal);
    if (before === 0n) return { entries: [], next: undefined, hasMore: false };
    const timeline = this.store.timeline(conversationId);
    const { entries, hasMore } = await readPage(
      (count) => timeline.scan({ direction: 'backward', limit: count, signal, ...(before === undefined ? {} : { from: before - 1n }) }),
      limit,
    );
    return { entries, next: hasMore ? entries[entries.length - 1]!.seq : undefined, hasMore };
  }

  /**
   * Read a conversation's entries after a seq, oldest first (catching up on one conversation).
   *
   * @example
   * ```ts
   * let result = await history.since('group:1', { limit: 100 });
   * while (result.hasMore) result = await history.since('group:1', { after: result.next, limit: 100 });
   * ```
   * @throws {ValidationError} for an invalid `conversationId`, `options.after` or `options.limit`.
   */
  async since(conversationId: string, options?: HistorySinceOptions): Promise<HistoryPage<TimelineEntry<T>>> {
    checkTimelineId(conversationId, 'conversationId');
    const opts = checkOptionsObject(options) as HistorySinceOptions;
    const afterSeq = checkOptionalSeq(opts.after, 'options.after');
    const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit') ?? DEFAULT_PAGE_LIMIT;
    const signal = checkSignal(opts.signal);
    const from = after(afterSeq);
    if (from === null) return { entries: [], next: afterSeq, hasMore: false };
    const timeline = this.store.timeline(conversationId);
    const { entries, hasMore } = await readPage((count) => timeline.scan({ limit: count, signal, ...(from === undefined ? {} : { from }) }), limit);
    return { entries, next: entries[entries.length - 1]?.seq ?? afterSeq, hasMore };
  }

  /**
   * Read one entry of a conversation by seq; undefined when there is none.
   * @throws {ValidationError} for an invalid `conversationId` or `seq`.
   */
  async get(conversationId: string, seq: Seq, options?: { signal?: AbortSignal }): Promise<TimelineEntry<T> | undefined> {
    checkTimelineId(conversationId, 'conversationId');
    checkSeq(seq, 'seq');
    const signal = checkSignal(checkOptionsObject(options).signal);
    return this.store.timeline(conversationId).get(seq, { signal });
  }

  /**
   * The newest entry of a conversation, or undefined when it is empty.
   * @throws {ValidationError} for an invalid `conversationId`.
   */
  async latest(conversationId: string, options?: { signal?: AbortSignal }): Promise<TimelineEntry<T> | undefined> {
    checkTimelineId(conversationId, 'conversationId');
    const signal = checkSignal(checkOptionsObject(options).signal);
    return this.store.timeline(conversationId).latest({ signal });
  }
}
