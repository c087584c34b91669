import createDebug from 'debug';
import { ValidationError } from '../core/errors.js';
import { TimelineStore } from '../core/timeline-store.js';
import type { AppendOptions, Seq, TimelineEntry } from '../core/types.js';
import { checkMessageId, checkOptionalPositiveInteger, checkOptionsObject, checkSignal, checkTimelineId } from '../core/validate.js';
import { CursorKeyring, CursorKind, type CursorSecret, type CursorState } from './cursor.js';
import { after, checkClock, readClock, readPage } from './internal.js';

const log = createDebug('tablestore-timeline:sync');

/** Default number of entries per {@link SyncTimeline.sync} call. */
export const DEFAULT_SYNC_LIMIT = 100;

/** Options of {@link SyncTimeline}. */
export interface SyncTimelineOptions {
  /**
   * The secret that signs cursors (HMAC-SHA256), at least 16 bytes. Every process serving the same
   * devices must share it. An array rotates secrets: the first signs, every one verifies.
   *
   * Default: a random key generated per instance, so cursors are valid only in this instance:
   * after a restart, or on another process, every device's cursor is rejected with an
   * `InvalidCursorError` (and the device must start over). {@link SyncTimeline.ephemeralCursors}
   * tells which applies. Configure a secret in any multi-process or long-lived deployment.
   */
  cursorSecret?: CursorSecret | readonly CursorSecret[];
  /**
   * The clock, in milliseconds since the epoch, that stamps cursors and decides `limited`.
   * @default Date.now
   */
  now?: () => number;
}

/** Options of {@link SyncTimeline.sync}. */
export interface SyncOptions {
  /**
   * The cursor returned by the previous `sync` of this device. Undefined: start from the oldest
   * entry still retained.
   */
  cursor?: string;
  /**
   * Most entries to return (a positive integer).
   * @default 100
   */
  limit?: number;
  /** Stops the read: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** The result of a sync. */
export interface SyncResult<E> {
  /** New entries, in order. */
  readonly entries: E[];
  /** Keep it and pass it to the next sync. Opaque, tamper-evident, bound to this receiver and table. */
  readonly cursor: string;
  /** True when more entries are waiting: sync again right away. */
  readonly hasMore: boolean;
  /**
   * True when the given cursor is older than the inbox's TTL: entries after it may have expired
   * unseen. The returned entries and cursor are still valid, but the device must re-fetch the
   * history of its conversations from the message store (`StoreTimeline.page`) to fill the gap.
   */
  readonly limited: boolean;
}

/**
 * When a new cursor's guarantee starts. A cursor promises that nothing after its position has
 * expired while it is younger than the TTL; that holds from the moment a sync reached the end of
 * the inbox. While a device is still catching up (`hasMore`), the unread entries may be as old as
 * the previous promise, so that promise is carried forward. A fresh or limited cursor has no
 * promise to keep and starts at this read.
 */
export function nextIssuedAt(previous: CursorState | undefined, limited: boolean, hasMore: boolean, readAt: number): number {
  return hasMore && previous !== undefined && !limited ? previous.issuedAt : readAt;
}

/** True when a cursor issued at `issuedAt` is older than `ttlSeconds` at `readAt`. */
export function isLimited(issuedAt: number | undefined, ttlSeconds: number, readAt: number): boolean {
  return issuedAt !== undefined && ttlSeconds > 0 && readAt - issuedAt >= ttlSeconds * 1000;
}

/**
 * The sync store (inbox): one timeline per receiver holding every message that must reach them,
 * for the store's TTL. Each device keeps its own opaque cursor; the server keeps no per-device
 * state, so any number of devices sync one inbox independently and each gets every entry exactly
 * once, in order.
 *
 * @example
 * ```ts
 * import { MemoryBackend, SyncTimeline, TimelineStore } from 'tablestore-timeline';
 *
 * const store = new TimelineStore<{ text: string }>({ backend: new MemoryBackend(), table: 'im_sync', ttlSeconds: 7 * 86400 });
 * const inbox = new SyncTimeline(store, { cursorSecret: process.env.CURSOR_SECRET });
 * await inbox.push('user:bob', { text: 'hi' }, { messageId: 'm-1' });
 * let cursor: string | undefined;                       // kept by the device
 * const { entries, cursor: next, limited } = await inbox.sync('user:bob', { cursor, limit: 200 });
 * cursor = next;
 * ```
 */
export class SyncTimeline<T> {
  /** The underlying store (one table; timeline id = receiver id). Its `ttlSeconds` bounds `limited`. */
  readonly store: TimelineStore<T>;
  /**
   * True when no `cursorSecret` was configured: cursors are signed with a random per-instance key
   * and are rejected after a restart or by another process.
   */
  readonly ephemeralCursors: boolean;
  readonly #keyring: CursorKeyring;
  readonly #now: () => number;

  /**
   * @throws {ValidationError} when `store` is not a `TimelineStore`, or an option is invalid.
   */
  constructor(store: TimelineStore<T>, options?: SyncTimelineOptions) {
    if (!(store instanceof TimelineStore)) {
      throw new ValidationError('store', 'Expected `store` to be a TimelineStore with a TTL (e.g. `new TimelineStore({ backend, table, ttlSeconds: 7 * 86400 })`)');
    }
    const opts = checkOptionsObject(options) as SyncTimelineOptions;
    this.store = store;
    this.#keyring = new CursorKeyring(opts.cursorSecret, 'options.cursorSecret');
    this.#now = checkClock(opts.now) ?? Date.now;
    this.ephemeralCursors = this.#keyring.ephemeral;
    if (this.ephemeralCursors) log('table %s: no cursorSecret configured; cursors are valid only in this instance', store.table);
  }

  /**
   * The keyring that signs and verifies this inbox's cursors. The Messenger signs its own cursors
   * with it, so that one `cursorSecret` serves both.
   * @internal
   */
  get cursorKeyring(): CursorKeyring {
    return this.#keyring;
  }

  /** The clock that stamps cursors and decides `limited`. @internal */
  get clock(): () => number {
    return this.#now;
  }

  /**
   * Append a message to a receiver's inbox. To reach many receivers, use {@link fanOut}.
   *
   * @throws {ValidationError} for an invalid `receiverId`, `options.messageId` or a message the
   *   codec cannot encode; nothing is written.
   * @throws {BackendError} when the backend fails.
   */
  async push(receiverId: string, message: T, options?: AppendOptions): Promise<TimelineEntry<T>> {
    checkTimelineId(receiverId, 'receiverId');
    const opts = checkOptionsObject(options) as AppendOptions;
    const messageId = checkMessageId(opts.messageId, 'options.messageId');
    const signal = checkSignal(opts.signal);
    return this.store.timeline(receiverId).append(message, { messageId, signal });
  }

  /**
   * Fetch what a device has not seen yet: the entries after its cursor, oldest first, and the
   * cursor to use next time. Stateless on the server.
   *
   * The returned cursor records the last entry delivered and when its guarantee started: the time
   * of this call when it reached the end of the inbox (also when nothing was new, so an idle device
   * that keeps polling never becomes `limited`), or the previous cursor's time while the device is
   * still catching up (`hasMore`). A cursor older than the TTL yields `limited: true`.
   *
   * @example
   * ```ts
   * let result = await inbox.sync('user:bob', { cursor: device.cursor });
   * if (result.limited) await device.refetchHistory();
   * while (true) {
   *   device.apply(result.entries);
   *   device.cursor = result.cursor;
   *   if (!result.hasMore) break;
   *   result = await inbox.sync('user:bob', { cursor: device.cursor });
   * }
   * ```
   * @throws {ValidationError} for an invalid `receiverId`, `options.limit` or a non-string cursor.
   * @throws {InvalidCursorError} for a cursor that is malformed, tampered with, or was issued for
   *   another receiver, table or secret.
   */
  async sync(receiverId: string, options?: SyncOptions): Promise<SyncResult<TimelineEntry<T>>> {
    checkTimelineId(receiverId, 'receiverId');
    const opts = checkOptionsObject(options) as SyncOptions;
    const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit') ?? DEFAULT_SYNC_LIMIT;
    const signal = checkSignal(opts.signal);
    const scope = [this.store.table, receiverId];
    const previous =
      opts.cursor === undefined
        ? undefined
        : this.#keyring.open(CursorKind.sync, scope, opts.cursor, 'options.cursor', `receiver ${JSON.stringify(receiverId)} of table ${this.store.table}`);
    // Read the clock before reading entries: a later time could vouch for entries not yet seen.
    const readAt = readClock(this.#now);
    const from = after(previous?.inbox);
    const timeline = this.store.timeline(receiverId);
    const { entries, hasMore } =
      from === null
        ? { entries: [], hasMore: false }
        : await readPage((count) => timeline.scan({ limit: count, signal, ...(from === undefined ? {} : { from }) }), limit);
    const limited = isLimited(previous?.issuedAt, this.store.ttlSeconds, readAt);
    const last: Seq | undefined = entries[entries.length - 1]?.seq ?? previous?.inbox;
    const cursor = this.#keyring.seal(CursorKind.sync, scope, {
      issuedAt: nextIssuedAt(previous, limited, hasMore, readAt),
      inbox: last,
      groups: new Map(),
    });
    return { entries, cursor, hasMore, limited };
  }
}
