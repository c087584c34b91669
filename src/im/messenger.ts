// The Messenger class: the public IM API (send, sync, history, recover, recall, edit, deleteForMe,
// conversations, markRead, readReceipts). Over 450 lines because each method carries its TSDoc
// with an example; the work itself lives in one module per concern (send-flow, messenger-sync,
// recovery, change-flow, conversations, read-positions, receipts, messenger-options).
import { TimelineError, ValidationError } from '../core/errors.js';
import { GuardedBackend } from '../core/guarded-backend.js';
import { checkMessageId, checkOptionalPositiveInteger, checkOptionsObject, checkSeq, checkSignal, checkTimelineId } from '../core/validate.js';
import { DEFAULT_FAN_OUT_CONCURRENCY } from './fan-out.js';
import { checkClock, checkDedupeWindow, checkOptionalBoolean, checkOptionalFunction, checkTimelineIds, describe } from './internal.js';
import { groupsOf, syncMerged, type SyncContext } from './messenger-sync.js';
import { createConversations, listRowWriter } from './conversation-setup.js';
import { listConversations, type ConversationContext } from './conversations.js';
import type { ConversationPage, ConversationsOptions, MarkReadInput, MarkReadResult, ReadReceipts, ReadReceiptsInput } from './conversation-types.js';
import { markRead } from './read-positions.js';
import { readReceipts } from './receipts.js';
import { applyChange, deleteForUser, type ChangeContext } from './change-flow.js';
import { readHistory } from './messenger-history.js';

import type {
  ChangeResult,
  DeleteForMeInput,
  EditInput,
  RecallInput,
  MessengerEntry,
  MessengerHistoryOptions,
  MessengerOptions,
  MessengerSyncOptions,
  MessengerSyncResult,
  RecoverOptions,
  RecoverResult,
  SendInput,
  SendResult,
  StoredMessage,
  InboxMessage,
} from './messenger-types.js';
import { recoverPass } from './recovery.js';
import { sendJournaled, sendPlain, type SendContext, type SendRequest } from './send-flow.js';
import { SendJournal } from './send-journal.js';
export { DEFAULT_RECALL_WINDOW_MS };
import { buildLifecycle, checkChangeInput, checkJournal, checkRetention, DEFAULT_CLAIM_WAIT_MS, DEFAULT_LEASE_MS, DEFAULT_RECALL_WINDOW_MS } from './messenger-options.js';
import { StoreTimeline, type HistoryPage } from './store-timeline.js';
import { SyncTimeline } from './sync-timeline.js';

/** Default of {@link MessengerOptions.largeGroupThreshold}. */
export const DEFAULT_LARGE_GROUP_THRESHOLD = 500;
const DEFAULT_RECENT_SENDS = 1000;

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
  /** Above this many inboxes, `send` uses read diffusion. */
  readonly largeGroupThreshold: number;
  readonly #store: StoreTimeline<StoredMessage<T>>;
  readonly #inbox: SyncTimeline<InboxMessage<T>>;
  readonly #send: SendContext<T>;
  readonly #sync: SyncContext<T>;
  readonly #journalSpec: { table: string; ttlSeconds: number } | undefined;
  readonly #conv: ConversationContext<T> | undefined;
  readonly #recentLimit: number;
  // Keyed by JSON of [conversationId, messageId]: injective, unlike a joined string.
  readonly #recent = new Map<string, CachedSend<T>>();
  readonly #inFlight = new Map<string, Promise<SendResult<T>>>();
  #journalReady: Promise<void> | undefined;
  readonly #change: ChangeContext<T> | undefined;
  // Why the lifecycle is off (for the NOT_SUPPORTED error of its methods).
  readonly #lifecycleOff: string | undefined;
  #changesReady: Promise<void> | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @throws {ValidationError} for a missing or invalid option, or stores whose retention does not
   *   fit their role (a message store with a TTL, a sync store without one) unless allowed.
   * @throws {TimelineError} `NOT_SUPPORTED` when the journal is on and the message store's backend
   *   has no keyed-record capability.
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
    checkRetention(opts);
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
    const now = checkClock(opts.now) ?? opts.sync.clock;
    const concurrency = checkOptionalPositiveInteger(opts.concurrency, 'options.concurrency') ?? DEFAULT_FAN_OUT_CONCURRENCY;
    const recent = opts.recentSends === undefined ? DEFAULT_RECENT_SENDS : opts.recentSends;
    if (typeof recent !== 'number' || !Number.isSafeInteger(recent) || recent < 0) {
      throw new ValidationError('options.recentSends', `Expected \`options.recentSends\` to be an integer from 0 and up, got ${describe(recent)}`);
    }
    this.#recentLimit = recent;
    const journal = checkJournal(opts.journal, opts.store.store.table);
    let sendJournal: SendJournal | undefined;
    if (journal !== undefined) {
      // Through the core's guard: the same closed, abort and error rules as the timeline calls.
      const records = GuardedBackend.wrap(opts.store.store.backend).records;
      if (records === undefined) {
        throw new TimelineError(
          'NOT_SUPPORTED',
          `the message store's backend (${opts.store.store.backend.capabilities?.name ?? "custom"}) has no keyed-record capability, which the send journal needs; use a backend that has it, or pass \`journal: false\` to accept that re-sends racing across processes may store twice and that a crash mid fan-out is repaired only by a re-send`,
          { operation: 'Messenger' },
        );
      }
      sendJournal = new SendJournal(records, journal.table);
      this.#journalSpec = { table: journal.table, ttlSeconds: journal.ttlSeconds };
    }
    // Conversations (issue 16): built before the send context, which moves list rows.
    this.#conv = createConversations({
      options: opts.conversations,
      records: GuardedBackend.wrap(opts.store.store.backend).records,
      backendName: opts.store.store.backend.capabilities?.name ?? 'custom',
      store: opts.store,
      inbox: opts.sync,
      now,
      dedupeWindow: checkDedupeWindow(opts.dedupeWindow),
      largeGroups: (userId) => groupsOf(this.#sync, userId),
      threshold,
      concurrency,
    });
    this.#send = {
      store: opts.store,
      inbox: opts.sync,
      journal: sendJournal,
      now,
      leaseMs: journal?.leaseMs ?? DEFAULT_LEASE_MS,
      claimWaitMs: journal?.claimWaitMs ?? DEFAULT_CLAIM_WAIT_MS,
      threshold,
      dedupeWindow: checkDedupeWindow(opts.dedupeWindow),
      concurrency,
      checkBeforeSend: checkOptionalBoolean(opts.checkBeforeSend, 'options.checkBeforeSend') ?? true,
      onDelivered: checkOptionalFunction(opts.onDelivered, 'options.onDelivered'),
      listRows: listRowWriter(this.#conv),
      ready: () => this.#ready(),
    };
    this.#sync = { store: opts.store, inbox: opts.sync, largeGroupsOf: largeGroupsOf ?? (() => []), now, concurrency };
    const deliverToSender = checkOptionalBoolean(opts.deliverToSender, 'options.deliverToSender') ?? true;
    this.#deliverToSender = deliverToSender;
    const lifecycle = buildLifecycle(opts, {
      inbox: opts.sync,
      journal: sendJournal,
      now,
      threshold,
      deliverToSender,
      concurrency,
      dedupeWindow: this.#send.dedupeWindow,
      leaseMs: journal?.leaseMs ?? DEFAULT_LEASE_MS,
      claimWaitMs: journal?.claimWaitMs ?? DEFAULT_CLAIM_WAIT_MS,
      ready: () => this.#readyChanges(),
    });
    this.#change = lifecycle.context;
    this.#lifecycleOff = lifecycle.off;
    const recoverEvery = checkOptionalPositiveInteger(opts.recoverEvery, 'options.recoverEvery');
    if (recoverEvery !== undefined) {
      if (sendJournal === undefined) throw new ValidationError('options.recoverEvery', '`options.recoverEvery` needs the send journal; remove `journal: false`');
      this.#startSweep(recoverEvery);
    }
  }

  readonly #deliverToSender: boolean;

  /**
   * Create what the Messenger needs before the first call: the message and sync stores' tables and
   * the journal's record table. Optional (the first call does it lazily); call it at start-up to
   * fail fast on a wrong table. Concurrent calls share one initialisation; a failed one is retried
   * by the next call.
   * @throws {TableIncompatibleError} when an existing table has another layout or TTL.
   */
  async init(): Promise<void> {
    await Promise.all([this.#store.store.init(), this.#inbox.store.init(), this.#ready(), this.#change === undefined ? undefined : this.#readyChanges(), this.#conv?.ready()]);
  }

  /**
   * Stop the background recovery sweep (`recoverEvery`) and refuse later calls. Does not close the
   * stores or their backend, which the application owns. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
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
    this.#checkOpen('send');
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
    const key = JSON.stringify([conversationId, messageId]);
    const req: SendRequest<T> = { conversationId, senderId, targets, message: opts.message as T, messageId, signal };

    let cached = this.#cached(key, targets);
    if (cached !== undefined) return cached;
    // A concurrent send of the same message in this process: let it finish first. Not needed for
    // correctness with the journal (its claim decides), but it saves the loser's polling.
    for (let pending = this.#inFlight.get(key); pending !== undefined; pending = this.#inFlight.get(key)) {
      await pending.catch(() => undefined);
      cached = this.#cached(key, targets);
      if (cached !== undefined) return cached;
    }
    const attempt = this.#send.journal === undefined ? sendPlain(this.#send, req) : sendJournaled(this.#send, req);
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

  /**
   * Finish the sends of Messengers that died mid-way (a crash, a deploy, a lost host). Every
   * unfinished send in the journal whose claim's lease has expired is taken over (one recoverer
   * wins, by compare-and-set) and finished: its stored entry is looked up in the conversation's
   * tail, only the inboxes that lack it are written (one read per recipient), and the journal
   * marks it done. A claim whose owner died before storing the message is released, so that the
   * client's re-send stores it. Safe to run in several processes at once, and idempotent: a second
   * pass writes nothing. `recoverEvery` runs it in the background.
   *
   * Cost: one scan of each of the journal's 16 pending-hint partitions (small: only unfinished
   * sends have hints), plus, per unfinished send, one journal read, one takeover write, one tail
   * read of the conversation, one read per recipient inbox and the missing inbox rows.
   *
   * @example
   * ```ts
   * const { completed, released } = await messenger.recover();
   * ```
   * @throws {TimelineError} `NOT_SUPPORTED` with `journal: false`.
   */
  async recover(options?: RecoverOptions): Promise<RecoverResult> {
    this.#checkOpen('recover');
    const opts = checkOptionsObject(options) as RecoverOptions;
    const signal = checkSignal(opts.signal);
    if (this.#send.journal === undefined) {
      throw new TimelineError('NOT_SUPPORTED', 'recover() needs the send journal; this Messenger was built with `journal: false`', { operation: 'recover' });
    }
    return recoverPass(this.#send, signal);
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
  async sync(userId: string, options?: MessengerSyncOptions): Promise<MessengerSyncResult<T>> {
    this.#checkOpen('sync');
    return syncMerged(this.#sync, userId, options);
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
    this.#checkOpen('history');
    const changes = this.#change?.changes;
    if (options?.userId !== undefined && changes !== undefined) await this.#readyChanges();
    return readHistory(
      {
        store: this.#store,
        ...(changes === undefined ? {} : { hiddenFor: (userId, conv, low, high, signal) => changes.hidden(userId, conv, low, high, signal) }),
      },
      conversationId,
      options,
    );
  }

  /**
   * Recall ("unsend") a message: its history entry becomes a tombstone in place (seq kept; who and
   * when in `recalled`; its content removed from the message store, not merely hidden), and every
   * device of every member learns of it on its next sync through a `'recall'` event.
   *
   * Checked first, writing nothing when refused: the seq must hold a message of the conversation
   * (`NOT_FOUND`), not already recalled (`INVALID_ARGUMENT` on `input.seq`), and `canModify` must
   * allow it (`FORBIDDEN`; by default only the sender, within `lifecycle.recallWindowMs`).
   * Idempotent by `requestId`: the same request again writes nothing and answers `duplicate: true`.
   * Concurrent changes of one message are serialised by a lock in its change record, so that each
   * gets its own revision.
   *
   * With write diffusion, the inbox copies are scrubbed to the tombstone too, where the send
   * journal recorded them (without the journal they keep their content until the inbox TTL).
   *
   * Cost in requests (TableStore): 2 reads (change record, entry) + 1 lock write + 2 for the
   * in-place rewrite (GetRow, UpdateRow) + the event (write diffusion: ⌈inboxes / 200⌉ batch
   * writes; read diffusion: 1 append) + 1 release write; write diffusion adds 1 journal read and
   * 2 per inbox copy scrubbed.
   *
   * @example
   * ```ts
   * const { entry } = await messenger.recall({ conversationId: 'dm:alice:bob', seq, by: 'alice', requestId: 'r-1', recipients: ['bob'] });
   * entry.recalled; // { by: 'alice', at: 1767225600000 }
   * ```
   * @throws {TimelineError} `NOT_FOUND`, `FORBIDDEN`, `CHANGE_IN_PROGRESS` (retryable: another caller is
   *   changing this message), `NOT_SUPPORTED` (no lifecycle on this backend).
   * @throws {ValidationError} for invalid input, a message already recalled, or no `recipients`
   *   when the journal has no record of the send.
   */
  async recall(input: RecallInput): Promise<ChangeResult<T>> {
    this.#checkOpen('recall');
    const ctx = this.#lifecycle('recall');
    return applyChange(ctx, checkChangeInput<T>(input, 'recall'));
  }

  /**
   * Edit a message: history shows the new content with `editedAt` and `editCount`, and every
   * device of every member learns of it on its next sync through an `'edit'` event carrying the
   * new content and the message's revision. Edits racing from several devices are serialised: each
   * gets the next revision, the last one applied is the final state, and devices that keep the
   * highest revision converge to it. Checks, idempotency and cost as for {@link Messenger.recall}
   * (an edit of a recalled message is refused; a message over the size limit is a
   * `MESSAGE_TOO_LARGE` ValidationError on `input.message`).
   *
   * @example
   * ```ts
   * await messenger.edit({ conversationId: 'dm:alice:bob', seq, by: 'alice', requestId: 'e-1', recipients: ['bob'], message: { text: 'fixed' } });
   * ```
   * @throws {TimelineError} as {@link Messenger.recall}.
   */
  async edit(input: EditInput<T>): Promise<ChangeResult<T>> {
    this.#checkOpen('edit');
    const ctx = this.#lifecycle('edit');
    return applyChange(ctx, checkChangeInput<T>(input, 'edit'));
  }

  /**
   * Hide a message from one user: from `history(conversationId, { userId })` and, through a
   * `'delete'` event in that user's inbox only, from that user's devices. Others are not affected.
   * Idempotent: repeating it writes no second event (`duplicate: true`).
   *
   * Cost in requests: 1 entry read + 1 record read + 1 record write + 1 inbox read + 1 inbox write.
   *
   * @example
   * ```ts
   * await messenger.deleteForMe({ userId: 'bob', conversationId: 'dm:alice:bob', seq });
   * ```
   * @throws {TimelineError} `NOT_FOUND` for a seq that holds no message; `NOT_SUPPORTED` without
   *   the lifecycle.
   * @throws {ValidationError} for invalid input; nothing is written.
   */
  async deleteForMe(input: DeleteForMeInput): Promise<ChangeResult<T>> {
    this.#checkOpen('deleteForMe');
    const ctx = this.#lifecycle('deleteForMe');
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ValidationError('input', `Expected \`input\` to be an object { userId, conversationId, seq }, got ${describe(input)}`);
    }
    const userId = checkTimelineId(input.userId, 'input.userId');
    const conversationId = checkTimelineId(input.conversationId, 'input.conversationId');
    const seq = checkSeq(input.seq, 'input.seq');
    const signal = checkSignal(input.signal, 'input.signal');
    return deleteForUser(ctx, { userId, conversationId, seq, signal });
  }

  #lifecycle(operation: string): ChangeContext<T> {
    if (this.#change === undefined) {
      throw new TimelineError('NOT_SUPPORTED', `${operation}() needs the message lifecycle, which is off: ${this.#lifecycleOff}`, { operation });
    }
    return this.#change;
  }

  #readyChanges(): Promise<void> {
    this.#changesReady ??= this.#change!.changes.ensureTable().then(
      () => undefined,
      (error: unknown) => {
        this.#changesReady = undefined; // the next call retries
        throw error;
      },
    );
    return this.#changesReady;
  }

  // --- Conversations (issue 16): the list, read positions and receipts ---------------------------

  /**
   * The user's conversations, newest activity first, one page at a time: each with its newest
   * message, its unread count and the user's read position. Needs `conversations` in the options.
   *
   * Order: by the `sentAt` of each conversation's newest message that reached the user (ties by
   * id). Paging is by keyset: `next` names the last item returned, so no conversation appears twice
   * in one pass while messages arrive; one that receives a message meanwhile moves to the top and
   * shows on the next first page. Unread counts and last messages are read from the conversations
   * themselves when the page is built, so every device sees the same numbers.
   *
   * Cost: one scan of the user's rows (two per conversation, 5,000 per request), one tail read per
   * large group of the user (read diffusion: its place in the order), and one tail read per listed
   * conversation (at most `unreadCap + 1` entries), `concurrency` at a time.
   *
   * @example
   * ```ts
   * const { items, next } = await messenger.conversations('bob', { limit: 20 });
   * for (const c of items) console.log(c.conversationId, c.unreadCapped ? `${c.unread}+` : c.unread);
   * ```
   * @throws {ValidationError} for an invalid `userId` or option.
   * @throws {InvalidCursorError} for a cursor that is not a `next` of this user's list.
   * @throws {TimelineError} `NOT_SUPPORTED` when `conversations` is off, or when the user has more
   *   rows than `conversations.maxRows`.
   */
  async conversations(userId: string, options?: ConversationsOptions): Promise<ConversationPage<T>> {
    return listConversations(this.#conversationsOn('conversations'), userId, options);
  }

  /**
   * Move the user's read position in a conversation forward, for all of the user's devices: their
   * next `conversations()` shows the new unread count. Positions only move forward: a stale or
   * concurrent device that read less changes nothing (`advanced: false`). A seq beyond the
   * conversation's newest message is clamped to it.
   *
   * The user's other devices also get a `read` event ({@link ReadEvent}) on their next `sync`, so
   * that they clear the badge without listing again (`notified` says whether it was written).
   *
   * Cost: two reads in parallel (the user's list row, the conversation's newest entry), one write
   * request (the user's position, plus the receipt row of a write-diffused conversation) and, when
   * the position moved, one inbox row (the event) in the user's own inbox.
   *
   * @example
   * ```ts
   * await messenger.markRead({ userId: 'bob', conversationId: 'group:1', seq: entry.seq });
   * ```
   * @throws {ValidationError} for invalid input, a conversation without messages, or a user who
   *   is not a member (no message of it reached the user, and it is not one of the user's large groups).
   * @throws {TimelineError} `NOT_SUPPORTED` when `conversations` is off.
   */
  async markRead(input: MarkReadInput): Promise<MarkReadResult> {
    return markRead(this.#conversationsOn('markRead'), input);
  }

  /**
   * Who has read a conversation up to a message: the users whose read position is at `seq` or
   * beyond, and with `members`, those who have not. For 1:1 chats and groups of at most
   * `largeGroupThreshold` members; a large group (read diffusion) keeps read positions on the
   * members' side only, so `members` over the threshold is `NOT_SUPPORTED`.
   *
   * Cost: one scan of the conversation's read positions (5,000 per request).
   *
   * @example
   * ```ts
   * const { readBy, notReadBy } = await messenger.readReceipts({ conversationId: 'group:1', seq, members });
   * ```
   * @throws {ValidationError} for invalid input.
   * @throws {TimelineError} `NOT_SUPPORTED` when `conversations` is off, or for a large group.
   */
  async readReceipts(input: ReadReceiptsInput): Promise<ReadReceipts> {
    return readReceipts(this.#conversationsOn('readReceipts'), input);
  }

  #conversationsOn(operation: string): ConversationContext<T> {
    this.#checkOpen(operation);
    if (this.#conv === undefined) {
      throw new TimelineError('NOT_SUPPORTED', `${operation}() needs conversations; build the Messenger with \`conversations: {}\``, { operation });
    }
    return this.#conv;
  }

  // --- end of conversations -------------------------------------------------------------------

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

  #ready(): Promise<void> {
    const spec = this.#journalSpec;
    if (spec === undefined) return Promise.resolve();
    this.#journalReady ??= this.#send.journal!.ensureTable(spec).then(
      () => undefined,
      (error: unknown) => {
        this.#journalReady = undefined; // the next call retries
        throw error;
      },
    );
    return this.#journalReady;
  }

  #startSweep(everyMs: number): void {
    let running = false;
    this.#sweep = setInterval(() => {
      if (running || this.#closed) return;
      running = true;
      recoverPass(this.#send, undefined)
        .catch(() => undefined) // logged by the pass; the next tick tries again
        .finally(() => (running = false));
    }, everyMs);
    this.#sweep.unref();
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new TimelineError('CLOSED', `this Messenger was closed; ${operation} is refused`, { operation });
  }
}
