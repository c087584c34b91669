import createDebug from 'debug';
import pLimit from 'p-limit';
import { TimelineError, ValidationError } from '../core/errors.js';
import type { Seq, TimelineEntry } from '../core/types.js';
import {
  checkMessageId,
  checkOptionalPositiveInteger,
  checkOptionsObject,
  checkSignal,
  checkTimelineId,
  MAX_SEQ,
} from '../core/validate.js';
import { CursorKind, groupDigest, type CursorState } from './cursor.js';
import { DEFAULT_FAN_OUT_CONCURRENCY, deliver, type FanOutResult } from './fan-out.js';
import {
  after,
  checkClock,
  checkDedupeWindow,
  checkOptionalBoolean,
  checkOptionalFunction,
  checkTimelineIds,
  collect,
  describe,
  findInTail,
  readClock,
  toTimelineError,
} from './internal.js';
import { StoreTimeline, type HistoryPage } from './store-timeline.js';
import { DEFAULT_SYNC_LIMIT, isLimited, nextIssuedAt, SyncTimeline, syncInternals, type SyncResult } from './sync-timeline.js';

const log = createDebug('tablestore-timeline:messenger');

/** Default of {@link MessengerOptions.largeGroupThreshold}. */
export const DEFAULT_LARGE_GROUP_THRESHOLD = 500;
const DEFAULT_RECENT_SENDS = 1000;

/** What the Messenger keeps in a conversation's store timeline (the message store). */
export interface StoredMessage<T> {
  /** Who sent it. */
  readonly senderId: string;
  /** When it was stored, in milliseconds since the epoch (the Messenger's clock). */
  readonly sentAt: number;
  /** The application's message. */
  readonly message: T;
}

/** What the Messenger writes into each receiver's inbox (the sync store): a reference to the stored entry plus its content. */
export interface InboxMessage<T> {
  /** The conversation the message belongs to. */
  readonly conversationId: string;
  /** The seq of the message in the conversation's store timeline. */
  readonly seq: Seq;
  /** Who sent it. */
  readonly senderId: string;
  /** When it was stored, in milliseconds since the epoch. */
  readonly sentAt: number;
  /** The application's message. */
  readonly message: T;
}

/** A message as the Messenger returns it, from history or sync alike. */
export interface MessengerEntry<T> {
  /** The conversation the message belongs to. */
  readonly conversationId: string;
  /**
   * The seq of the message in the conversation's store timeline: identifies the message within
   * its conversation and orders the conversation's messages.
   */
  readonly seq: Seq;
  /** Who sent it. */
  readonly senderId: string;
  /** When it was stored, in milliseconds since the epoch of the sending server's clock. */
  readonly sentAt: number;
  /** The id given to `send`. */
  readonly messageId?: string;
  /** The application's message. */
  readonly message: T;
}

/**
 * A large group as returned by {@link MessengerOptions.largeGroupsOf}: its conversation id, and
 * optionally where a member who has not read it through `sync` yet starts.
 */
export interface LargeGroup {
  /** The group's conversation id. */
  readonly conversationId: string;
  /**
   * The first seq (inclusive) a member's sync delivers when the group first appears in that
   * member's cursor. Use it when a group has just crossed `largeGroupThreshold`: pass the seq of
   * its first read-diffused message (`send` returns it, with `mode: 'read'`), so that no message
   * falls between the inbox and the group. Default: after the group's latest entry.
   */
  readonly from?: Seq;
}

/** How a message reached its recipients: `'write'` fanned out to inboxes, `'read'` left in the store for members to read. */
export type DiffusionMode = 'write' | 'read';

/** Options of {@link Messenger}. */
export interface MessengerOptions<T> {
  /** The message store: one timeline per conversation, no TTL. */
  store: StoreTimeline<StoredMessage<T>>;
  /** The sync store: one inbox per user, with a TTL. Its `cursorSecret` also signs Messenger cursors. */
  sync: SyncTimeline<InboxMessage<T>>;
  /**
   * A conversation whose fan-out would reach more inboxes than this uses read diffusion: the
   * message is only stored, and members read it through `largeGroupsOf`. `Infinity` always fans out.
   * @default 500
   */
  largeGroupThreshold?: number;
  /**
   * The conversation ids (or {@link LargeGroup}s) of the user's groups that are over
   * `largeGroupThreshold`; `sync` reads their store timelines. Required unless the threshold is
   * `Infinity`. It must agree with the threshold: a group it omits while `send` uses read
   * diffusion does not reach that user's sync.
   */
  largeGroupsOf?: (userId: string) => Iterable<string | LargeGroup> | Promise<Iterable<string | LargeGroup>>;
  /**
   * Called after a message is stored and fanned out, e.g. to notify online devices, which then
   * sync. Awaited before `send` resolves; an error it throws (or rejects with) is logged under
   * `tablestore-timeline:messenger` and otherwise ignored: the message is already durable and
   * devices that miss a notification catch up on their next sync. Not called for a duplicate
   * answered from the in-process cache.
   */
  onDelivered?: (event: DeliveredEvent<T>) => void | Promise<void>;
  /**
   * The clock, in milliseconds since the epoch, for `sentAt` and for cursors.
   * Default: the `sync` timeline's clock.
   */
  now?: () => number;
  /**
   * Also write the message into the sender's own inbox, so that the sender's other devices see
   * it. The sending device receives it back on its next sync (recognise it by `messageId`).
   * @default true
   */
  deliverToSender?: boolean;
  /**
   * How many of the newest entries `send` searches, in the conversation's store timeline and (for
   * a re-sent message) in each recipient's inbox, for the message id. A re-send arriving after
   * more than this many newer messages is not recognised and is stored again.
   * @default 100
   */
  dedupeWindow?: number;
  /**
   * Whether `send` reads the conversation's newest `dedupeWindow` entries before storing, to
   * recognise a re-sent `messageId` from any process. `false` saves that read (a send then costs
   * 1 + ⌈recipients / batch size⌉ write requests and nothing else), and re-sends are recognised
   * only by this process's `recentSends` cache: a re-send it does not hold (another process, a
   * restart, an evicted entry, a send that failed before it was cached) is stored and delivered
   * again.
   * @default true
   */
  checkBeforeSend?: boolean;
  /**
   * How many recent fully delivered sends to remember in this process, so that an immediate
   * re-send is answered without any read. 0 disables the cache.
   * @default 1000
   */
  recentSends?: number;
  /**
   * Backend requests in flight at once, for fan-out writes and for the reads of `sync`.
   * @default 16
   */
  concurrency?: number;
}

/** What {@link MessengerOptions.onDelivered} receives. */
export interface DeliveredEvent<T> {
  /** The stored message. */
  readonly entry: MessengerEntry<T>;
  /** How it reached its recipients. */
  readonly mode: DiffusionMode;
  /** The distinct recipients (plus the sender with `deliverToSender`): whom to notify. */
  readonly recipients: readonly string[];
  /** The fan-out outcome (empty lists for read diffusion). */
  readonly fanOut: FanOutResult;
  /** True when the message had been stored by an earlier call with the same id. */
  readonly duplicate: boolean;
}

/** The input of {@link Messenger.send}. */
export interface SendInput<T> {
  /** The conversation (a 1:1 chat or a group): the id of its store timeline. */
  conversationId: string;
  /** Who sends it. Also an inbox id when `deliverToSender` is on. */
  senderId: string;
  /** The users who receive it (duplicates are ignored). Their ids are inbox ids. */
  recipients: readonly string[];
  /** The application's message. */
  message: T;
  /** A client-generated id, unique within the conversation, that makes a re-send safe. */
  messageId: string;
  /** Stops the send: before storing, it rejects with an `AbortedError`; during fan-out, unsent receivers fail. */
  signal?: AbortSignal;
}

/** The result of {@link Messenger.send}. */
export interface SendResult<T> {
  /** The stored message (for a duplicate: the one stored by the first call). */
  readonly entry: MessengerEntry<T>;
  /** How it reached its recipients. */
  readonly mode: DiffusionMode;
  /**
   * Which inboxes hold it. Empty lists for read diffusion. Re-send with the same `messageId` to
   * retry the failed ones: only the inboxes that do not hold it are written.
   */
  readonly fanOut: FanOutResult;
  /** True when an earlier call had already stored this message id. */
  readonly duplicate: boolean;
}

/** Options of {@link Messenger.sync}. */
export interface MessengerSyncOptions {
  /** The cursor returned by this device's previous `Messenger.sync`. Undefined: start afresh. */
  cursor?: string;
  /**
   * Most entries to return (a positive integer).
   * @default 100
   */
  limit?: number;
  /** Stops the read: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** Options of {@link Messenger.history}. */
export interface MessengerHistoryOptions {
  /** Exclusive upper bound (a seq of the conversation): pass the previous page's `next`. Default: the newest. */
  before?: Seq;
  /**
   * Most entries to return (a positive integer).
   * @default 50
   */
  limit?: number;
  /** Stops the read: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

interface Source<T> {
  readonly digest: string | undefined;
  readonly position: Seq | undefined;
  readonly entries: MessengerEntry<T>[];
  readonly seqs: Seq[];
  taken: number;
}

interface CachedSend<T> {
  readonly result: SendResult<T>;
  readonly recipients: ReadonlySet<string>;
}

/**
 * The hybrid IM service: stores every message first (message store), then delivers it by write
 * diffusion into each recipient's inbox (sync store), or, for a conversation over
 * `largeGroupThreshold`, by read diffusion (members' syncs read the group's store timeline).
 *
 * @example
 * ```ts
 * import { MemoryBackend, Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from 'tablestore-timeline';
 *
 * type Chat = { text: string };
 * const backend = new MemoryBackend();
 * const messenger = new Messenger<Chat>({
 *   store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend, table: 'im_store' })),
 *   sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend, table: 'im_sync', ttlSeconds: 7 * 86400 }), { cursorSecret }),
 *   largeGroupThreshold: 500,
 *   largeGroupsOf: async (userId) => db.largeGroupsOf(userId),
 * });
 * await messenger.send({ conversationId: 'group:1', senderId: 'alice', recipients: members, message: { text: 'hi' }, messageId: 'c-1' });
 * const { entries, cursor } = await messenger.sync('bob', { cursor: device.cursor });
 * ```
 */
export class Messenger<T> {
  readonly #store: StoreTimeline<StoredMessage<T>>;
  readonly #inbox: SyncTimeline<InboxMessage<T>>;
  /** Above this many inboxes, `send` uses read diffusion. */
  readonly largeGroupThreshold: number;
  readonly #largeGroupsOf: NonNullable<MessengerOptions<T>['largeGroupsOf']>;
  readonly #onDelivered: MessengerOptions<T>['onDelivered'];
  readonly #now: () => number;
  readonly #deliverToSender: boolean;
  readonly #dedupeWindow: number;
  readonly #checkBeforeSend: boolean;
  readonly #concurrency: number;
  readonly #recentLimit: number;
  readonly #recent = new Map<string, CachedSend<T>>();
  readonly #inFlight = new Map<string, Promise<SendResult<T>>>();

  /**
   * @throws {ValidationError} for a missing or invalid option.
   */
  constructor(options: MessengerOptions<T>) {
    const opts = checkOptionsObject(options) as Partial<MessengerOptions<T>>;
    if (!(opts.store instanceof StoreTimeline)) {
      throw new ValidationError('options.store', `Expected \`options.store\` to be a StoreTimeline, got ${describe(opts.store)}`);
    }
    if (!(opts.sync instanceof SyncTimeline)) {
      throw new ValidationError('options.sync', `Expected \`options.sync\` to be a SyncTimeline, got ${describe(opts.sync)}`);
    }
    if (opts.store.store.backend === opts.sync.store.backend && opts.store.store.table === opts.sync.store.table) {
      throw new ValidationError('options.sync', 'Expected `options.sync` to use another table than `options.store`: conversation and user ids would share timelines');
    }
    this.#store = opts.store;
    this.#inbox = opts.sync;
    const threshold = opts.largeGroupThreshold === undefined ? DEFAULT_LARGE_GROUP_THRESHOLD : opts.largeGroupThreshold;
    if (threshold !== Number.POSITIVE_INFINITY && (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 0)) {
      throw new ValidationError('options.largeGroupThreshold', `Expected \`options.largeGroupThreshold\` to be an integer from 0 and up, or Infinity, got ${describe(threshold)}`);
    }
    this.largeGroupThreshold = threshold;
    const largeGroupsOf = checkOptionalFunction<NonNullable<MessengerOptions<T>['largeGroupsOf']>>(opts.largeGroupsOf, 'options.largeGroupsOf');
    if (largeGroupsOf === undefined && threshold !== Number.POSITIVE_INFINITY) {
      throw new ValidationError(
        'options.largeGroupsOf',
        'Expected `options.largeGroupsOf` to be a function returning the ids of the user\'s groups over `largeGroupThreshold`: without it, members of a large group never receive its messages. Pass `largeGroupThreshold: Infinity` to always fan out instead',
      );
    }
    this.#largeGroupsOf = largeGroupsOf ?? (() => []);
    this.#onDelivered = checkOptionalFunction(opts.onDelivered, 'options.onDelivered');
    this.#now = checkClock(opts.now) ?? syncInternals(opts.sync as SyncTimeline<unknown>).now;
    this.#deliverToSender = checkOptionalBoolean(opts.deliverToSender, 'options.deliverToSender') ?? true;
    this.#dedupeWindow = checkDedupeWindow(opts.dedupeWindow);
    this.#checkBeforeSend = checkOptionalBoolean(opts.checkBeforeSend, 'options.checkBeforeSend') ?? true;
    this.#concurrency = checkOptionalPositiveInteger(opts.concurrency, 'options.concurrency') ?? DEFAULT_FAN_OUT_CONCURRENCY;
    const recent = opts.recentSends === undefined ? DEFAULT_RECENT_SENDS : opts.recentSends;
    if (typeof recent !== 'number' || !Number.isSafeInteger(recent) || recent < 0) {
      throw new ValidationError('options.recentSends', `Expected \`options.recentSends\` to be an integer from 0 and up, got ${describe(recent)}`);
    }
    this.#recentLimit = recent;
  }

  /**
   * Send a message: store it in the conversation's timeline first, then fan it out to the
   * recipients' inboxes (write diffusion), or not at all for a conversation over
   * `largeGroupThreshold` (read diffusion), then call `onDelivered`.
   *
   * Idempotent by `messageId`: before storing, the newest `dedupeWindow` entries of the
   * conversation are searched for it (one extra read per send; `checkBeforeSend: false` skips it and
   * leaves only the in-process `recentSends` cache). When found, nothing is stored
   * again; the message is fanned out only to the inboxes that do not hold it yet (one read per
   * recipient), and the first call's entry is returned with `duplicate: true`. A re-send is thus
   * also the way to retry failed fan-out. Limits: a re-send after more than `dedupeWindow` newer
   * messages, or two copies of a send racing in different processes, can store the message twice.
   *
   * @example
   * ```ts
   * const { entry, mode, fanOut } = await messenger.send({ conversationId: 'dm:alice:bob', senderId: 'alice', recipients: ['bob'], message, messageId });
   * if (fanOut.failed.length > 0) await messenger.send({ conversationId: 'dm:alice:bob', senderId: 'alice', recipients: ['bob'], message, messageId });
   * ```
   * @throws {ValidationError} for invalid input; nothing is written.
   * @throws {TimelineError} when storing fails; nothing is fanned out. Per-inbox failures do not
   *   throw: they are listed in `fanOut.failed`.
   */
  async send(input: SendInput<T>): Promise<SendResult<T>> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ValidationError('input', `Expected \`input\` to be an object { conversationId, senderId, recipients, message, messageId }, got ${describe(input)}`);
    }
    const opts = input as Partial<SendInput<T>>;
    const conversationId = checkTimelineId(opts.conversationId, 'input.conversationId');
    const senderId = checkTimelineId(opts.senderId, 'input.senderId');
    const recipients = checkTimelineIds(opts.recipients, 'input.recipients');
    if (!('message' in opts)) throw new ValidationError('input.message', 'Expected `input.message` to be set');
    if (opts.messageId === undefined) {
      throw new ValidationError('input.messageId', 'Expected `input.messageId` to be a non-empty string: a client-generated id that makes a re-send safe');
    }
    const messageId = checkMessageId(opts.messageId, 'input.messageId')!;
    const signal = checkSignal(opts.signal, 'input.signal');
    const targets = this.#deliverToSender && !recipients.includes(senderId) ? [...recipients, senderId] : recipients;
    const key = `${conversationId}\u0000${messageId}`;

    let cached = this.#cached(key, targets);
    if (cached !== undefined) return cached;
    // A concurrent send of the same message in this process: let it finish, then reconcile, so
    // that two copies never fan out at once.
    for (let pending = this.#inFlight.get(key); pending !== undefined; pending = this.#inFlight.get(key)) {
      await pending.catch(() => undefined);
      cached = this.#cached(key, targets);
      if (cached !== undefined) return cached;
    }
    const attempt = this.#send(conversationId, senderId, targets, opts.message as T, messageId, signal);
    this.#inFlight.set(key, attempt);
    try {
      const result = await attempt;
      if (this.#recentLimit > 0 && result.fanOut.failed.length === 0) {
        this.#recent.delete(key);
        this.#recent.set(key, { result, recipients: new Set(targets) });
        if (this.#recent.size > this.#recentLimit) this.#recent.delete(this.#recent.keys().next().value!);
      }
      return result;
    } finally {
      if (this.#inFlight.get(key) === attempt) this.#inFlight.delete(key);
    }
  }

  // A recent, fully delivered send of this message to exactly these inboxes.
  #cached(key: string, targets: readonly string[]): SendResult<T> | undefined {
    const cached = this.#recent.get(key);
    if (cached === undefined || cached.recipients.size !== targets.length || !targets.every((id) => cached.recipients.has(id))) return undefined;
    // Refresh its place in the LRU order.
    this.#recent.delete(key);
    this.#recent.set(key, cached);
    const { result } = cached;
    // Copies, so that a caller changing its result cannot change the cache.
    return { ...result, fanOut: { ...result.fanOut, delivered: [...result.fanOut.delivered], failed: [...result.fanOut.failed] }, duplicate: true };
  }

  async #send(conversationId: string, senderId: string, targets: readonly string[], message: T, messageId: string, signal: AbortSignal | undefined): Promise<SendResult<T>> {
    const conversation = this.#store.store.timeline(conversationId);
    let stored = this.#checkBeforeSend ? await findInTail(conversation, messageId, this.#dedupeWindow, signal) : undefined;
    const duplicate = stored !== undefined;
    const mode: DiffusionMode = targets.length > this.largeGroupThreshold ? 'read' : 'write';
    try {
      if (stored === undefined) {
        const sentAt = readClock(this.#now);
        // Nothing is stored for a message whose inbox entry the inboxes would reject.
        if (mode === 'write') this.#checkEnvelope(conversationId, senderId, sentAt, message);
        stored = await conversation.append({ senderId, sentAt, message }, { messageId, signal });
      }
    } catch (error) {
      if (error instanceof ValidationError && error.parameter === 'message') {
        throw new ValidationError('input.message', error.message.replace('`message`', '`input.message`'), {
          code: error.code as 'INVALID_ARGUMENT' | 'MESSAGE_TOO_LARGE' | 'CODEC',
          cause: error,
          table: error.table,
          timelineId: conversationId,
        });
      }
      throw error;
    }
    const entry = fromStored(conversationId, stored);
    let fanOut: FanOutResult = { messageId, delivered: [], failed: [] };
    if (mode === 'write') {
      const envelope: InboxMessage<T> = { conversationId, seq: entry.seq, senderId: entry.senderId, sentAt: entry.sentAt, message: entry.message };
      try {
        fanOut = await deliver(this.#inbox.store, targets, envelope, {
          messageId,
          concurrency: this.#concurrency,
          signal,
          skipExisting: duplicate,
          dedupeWindow: this.#dedupeWindow,
          matches: (e) => e.message.conversationId === conversationId && e.message.seq === entry.seq,
          messageParameter: 'input.message',
        });
      } catch (error) {
        // The message is stored; an inbox-side rejection (e.g. the envelope is over the inbox
        // backend's size limit) is reported per recipient rather than hiding that it was stored.
        const wrapped = toTimelineError(error, 'send');
        fanOut = { messageId, delivered: [], failed: targets.map((receiverId) => ({ receiverId, error: wrapped })) };
      }
    }
    log(
      'send %s/%s: %s%s diffusion, %d delivered, %d failed',
      conversationId,
      messageId,
      duplicate ? 'duplicate, ' : '',
      mode,
      fanOut.delivered.length,
      fanOut.failed.length,
    );
    if (this.#onDelivered !== undefined) {
      try {
        await this.#onDelivered({ entry, mode, recipients: targets, fanOut, duplicate });
      } catch (error) {
        log('onDelivered failed for %s/%s (ignored; the message is stored): %O', conversationId, messageId, error);
      }
    }
    return { entry, mode, fanOut, duplicate };
  }

  // Encodes the inbox entry the fan-out would write (with the largest seq, so that the real one is
  // no larger) and rejects it as `input.message` if the inbox store cannot take it.
  #checkEnvelope(conversationId: string, senderId: string, sentAt: number, message: T): void {
    try {
      this.#inbox.store.validateMessage({ conversationId, seq: MAX_SEQ, senderId, sentAt, message }, 'input.message', conversationId);
    } catch (error) {
      if (!(error instanceof ValidationError) || error.code !== 'MESSAGE_TOO_LARGE') throw error;
      throw new ValidationError(
        'input.message',
        `${error.message}, as the inbox entry of its recipients (the message with its conversation id, seq, sender and time); nothing was stored`,
        { code: 'MESSAGE_TOO_LARGE', cause: error, table: error.table, timelineId: conversationId },
      );
    }
  }

  /**
   * Everything new for one of the user's devices: the user's inbox merged with the store
   * timelines of the user's large groups, under one opaque cursor that records the inbox position
   * and a position per large group. Across calls with the returned cursors, nothing is missed or
   * repeated.
   *
   * Order: entries are merged by `sentAt` (ties: inbox first, then the groups in the order
   * `largeGroupsOf` returned them), each source contributing its entries in its own order. Since
   * `sentAt` comes from the senders' servers' clocks, the order across conversations is
   * best-effort; order a conversation's messages by `seq`.
   *
   * A large group that is not in the cursor yet (a fresh cursor, or a group that newly appears in
   * `largeGroupsOf`) starts after its latest entry, or at its {@link LargeGroup.from}: its earlier
   * messages are history (see {@link Messenger.history}). A group that no longer appears is
   * dropped from the cursor. `limited` reports a cursor older than the inbox's TTL, as for
   * {@link SyncTimeline.sync}.
   *
   * @example
   * ```ts
   * const result = await messenger.sync('bob', { cursor: device.cursor, limit: 200 });
   * if (result.limited) await device.refetchHistory();
   * device.apply(result.entries);
   * device.cursor = result.cursor;
   * ```
   * @throws {ValidationError} for an invalid `userId`, option, or `largeGroupsOf` result.
   * @throws {InvalidCursorError} for a cursor that is malformed, tampered with, or was issued for
   *   another user, tables or secret.
   */
  async sync(userId: string, options?: MessengerSyncOptions): Promise<SyncResult<MessengerEntry<T>>> {
    checkTimelineId(userId, 'userId');
    const opts = checkOptionsObject(options) as MessengerSyncOptions;
    const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit') ?? DEFAULT_SYNC_LIMIT;
    const signal = checkSignal(opts.signal);
    const { keyring } = syncInternals(this.#inbox as SyncTimeline<unknown>);
    const scope = [this.#inbox.store.table, this.#store.store.table, userId];
    const previous: CursorState | undefined =
      opts.cursor === undefined
        ? undefined
        : keyring.open(CursorKind.messenger, scope, opts.cursor, 'options.cursor', `user ${JSON.stringify(userId)} of tables ${this.#inbox.store.table} and ${this.#store.store.table}`);
    const groups = await this.#groups(userId);
    const readAt = readClock(this.#now);
    const limiter = pLimit(this.#concurrency);
    const inboxSource = limiter(() => this.#readInbox(userId, previous?.inbox, limit, signal));
    const groupSources = groups.map((group) => limiter(() => this.#readGroup(group, previous, limit, signal)));
    // All awaited together: when one read fails, a second failing read must not be left as an
    // unhandled rejection (which terminates a Node process).
    const sources = await Promise.all([inboxSource, ...groupSources]);

    const entries: MessengerEntry<T>[] = [];
    while (entries.length < limit) {
      let pick: Source<T> | undefined;
      for (const source of sources) {
        const head = source.entries[source.taken];
        if (head !== undefined && (pick === undefined || head.sentAt < pick.entries[pick.taken]!.sentAt)) pick = source;
      }
      if (pick === undefined) break;
      entries.push(pick.entries[pick.taken]!);
      pick.taken += 1;
    }
    const hasMore = sources.some((s) => s.taken < s.entries.length);
    const position = (s: Source<T>): Seq | undefined => (s.taken > 0 ? s.seqs[s.taken - 1] : s.position);
    const limited =
      isLimited(previous?.issuedAt, this.#inbox.store.ttlSeconds, readAt) || isLimited(previous?.issuedAt, this.#store.store.ttlSeconds, readAt);
    const cursor = keyring.seal(CursorKind.messenger, scope, {
      issuedAt: nextIssuedAt(previous, limited, hasMore, readAt),
      inbox: position(sources[0]!),
      groups: new Map(sources.slice(1).map((s) => [s.digest!, position(s)])),
    });
    return { entries, cursor, hasMore, limited };
  }

  /**
   * A conversation's history, newest first, one page at a time (roaming).
   *
   * @example
   * ```ts
   * let page = await messenger.history('group:1', { limit: 50 });
   * while (page.hasMore) page = await messenger.history('group:1', { before: page.next, limit: 50 });
   * ```
   * @throws {ValidationError} for an invalid `conversationId` or option.
   */
  async history(conversationId: string, options?: MessengerHistoryOptions): Promise<HistoryPage<MessengerEntry<T>>> {
    checkTimelineId(conversationId, 'conversationId');
    const page = await this.#store.page(conversationId, options);
    return { entries: page.entries.map((e) => fromStored(conversationId, e)), next: page.next, hasMore: page.hasMore };
  }

  async #groups(userId: string): Promise<{ conversationId: string; digest: string; from: Seq | undefined }[]> {
    const parameter = 'options.largeGroupsOf';
    const returned: unknown = await this.#largeGroupsOf(userId);
    if (returned === null || typeof returned !== 'object' || typeof (returned as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new ValidationError(parameter, `Expected \`${parameter}\` to return an iterable of conversation ids, got ${describe(returned)}`);
    }
    const groups = new Map<string, { conversationId: string; digest: string; from: Seq | undefined }>();
    let index = 0;
    for (const item of returned as Iterable<unknown>) {
      const at = `${parameter}(${JSON.stringify(userId)})[${index++}]`;
      let conversationId: string;
      let from: Seq | undefined;
      if (typeof item === 'string') {
        conversationId = checkTimelineId(item, at);
      } else if (item !== null && typeof item === 'object') {
        const group = item as LargeGroup;
        conversationId = checkTimelineId(group.conversationId, `${at}.conversationId`);
        if (group.from !== undefined && (typeof group.from !== 'bigint' || group.from < 0n)) {
          throw new ValidationError(`${at}.from`, `Expected \`${at}.from\` to be a seq (a bigint from 0n), got ${describe(group.from)}`);
        }
        from = group.from;
      } else {
        throw new ValidationError(at, `Expected \`${at}\` to be a conversation id or { conversationId, from? }, got ${describe(item)}`);
      }
      if (!groups.has(conversationId)) groups.set(conversationId, { conversationId, digest: groupDigest(conversationId), from });
    }
    return [...groups.values()];
  }

  async #readInbox(userId: string, position: Seq | undefined, limit: number, signal: AbortSignal | undefined): Promise<Source<T>> {
    const from = after(position);
    const read =
      from === null ? [] : await collect(this.#inbox.store.timeline(userId).scan({ limit: limit + 1, signal, ...(from === undefined ? {} : { from }) }));
    return { digest: undefined, position, entries: read.map(fromInbox), seqs: read.map((e) => e.seq), taken: 0 };
  }

  async #readGroup(
    group: { conversationId: string; digest: string; from: Seq | undefined },
    previous: CursorState | undefined,
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<Source<T>> {
    const timeline = this.#store.store.timeline(group.conversationId);
    let position: Seq | undefined;
    if (previous?.groups.has(group.digest)) {
      position = previous.groups.get(group.digest);
    } else if (group.from !== undefined) {
      position = group.from === 0n ? undefined : group.from - 1n;
    } else {
      // First sight: start after the latest entry; what came before is history, not news.
      const latest = await timeline.latest({ signal });
      return { digest: group.digest, position: latest?.seq, entries: [], seqs: [], taken: 0 };
    }
    const from = after(position);
    const read = from === null ? [] : await collect(timeline.scan({ limit: limit + 1, signal, ...(from === undefined ? {} : { from }) }));
    return { digest: group.digest, position, entries: read.map((e) => fromStored(group.conversationId, e)), seqs: read.map((e) => e.seq), taken: 0 };
  }
}

function fromStored<T>(conversationId: string, entry: TimelineEntry<StoredMessage<T>>): MessengerEntry<T> {
  const stored = entry.message;
  if (stored === null || typeof stored !== 'object' || typeof stored.senderId !== 'string' || typeof stored.sentAt !== 'number') {
    throw new TimelineError('CODEC', `entry ${entry.seq} of conversation ${JSON.stringify(conversationId)} is not a StoredMessage; was it written by Messenger.send?`, {
      operation: 'read',
      timelineId: conversationId,
    });
  }
  return entry.messageId === undefined
    ? { conversationId, seq: entry.seq, senderId: stored.senderId, sentAt: stored.sentAt, message: stored.message }
    : { conversationId, seq: entry.seq, senderId: stored.senderId, sentAt: stored.sentAt, messageId: entry.messageId, message: stored.message };
}

function fromInbox<T>(entry: TimelineEntry<InboxMessage<T>>): MessengerEntry<T> {
  const m = entry.message;
  if (m === null || typeof m !== 'object' || typeof m.conversationId !== 'string' || typeof m.seq !== 'bigint' || typeof m.senderId !== 'string') {
    throw new TimelineError('CODEC', `inbox entry ${entry.seq} of ${JSON.stringify(entry.timelineId)} is not an InboxMessage; was it written by Messenger.send?`, {
      operation: 'sync',
      timelineId: entry.timelineId,
    });
  }
  return entry.messageId === undefined
    ? { conversationId: m.conversationId, seq: m.seq, senderId: m.senderId, sentAt: m.sentAt, message: m.message }
    : { conversationId: m.conversationId, seq: m.seq, senderId: m.senderId, sentAt: m.sentAt, messageId: entry.messageId, message: m.message };
}
