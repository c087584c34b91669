// The Messenger class: the public IM API (send, sync, history, recover, recall, edit, deleteForMe,
// conversations, markRead, readReceipts). Mostly TSDoc: each method checks that the Messenger is
// open and hands its work to the module of its concern (send-flow, messenger-sync, recovery,
// change-flow, conversations, read-positions, receipts); messenger-setup builds their contexts
// from the options, messenger-options checks inputs, recent-sends remembers recent sends.
import { TimelineError } from '../core/errors.js';
import { checkOptionsObject, checkSignal } from '../core/validate.js';
import { applyChange, deleteForUser, type ChangeContext } from './change-flow.js';
import type { ConversationPage, ConversationsOptions, MarkReadInput, MarkReadResult, ReadReceipts, ReadReceiptsInput } from './conversation-types.js';
import { listConversations, type ConversationContext } from './conversations.js';
import { readHistory } from './messenger-history.js';
import { checkChangeInput, checkDeleteInput, checkSendInput, DEFAULT_RECALL_WINDOW_MS } from './messenger-options.js';
import { messengerParts } from './messenger-setup.js';
import { syncMerged, type SyncContext } from './messenger-sync.js';
import type {
  ChangeResult,
  DeleteForMeInput,
  EditInput,
  MessengerEntry,
  MessengerHistoryOptions,
  MessengerOptions,
  MessengerSyncOptions,
  MessengerSyncResult,
  RecallInput,
  RecoverOptions,
  RecoverResult,
  SendInput,
  SendResult,
} from './messenger-types.js';
import { markRead } from './read-positions.js';
import { RecentSends } from './recent-sends.js';
import { readReceipts } from './receipts.js';
import { recoverPass } from './recovery.js';
import { sendJournaled, sendPlain, type SendContext } from './send-flow.js';
import type { HistoryPage } from './store-timeline.js';

export { DEFAULT_RECALL_WINDOW_MS };
export { DEFAULT_LARGE_GROUP_THRESHOLD } from './messenger-setup.js';

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
  readonly #send: SendContext<T>;
  readonly #sync: SyncContext<T>;
  readonly #conv: ConversationContext<T> | undefined;
  readonly #recent: RecentSends<T>;
  readonly #change: ChangeContext<T> | undefined;
  // Why the lifecycle is off (for the NOT_SUPPORTED error of its methods).
  readonly #lifecycleOff: string | undefined;
  readonly #deliverToSender: boolean;
  #sweep: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * @throws {ValidationError} for a missing or invalid option, or stores whose retention does not
   *   fit their role (a message store with a TTL, a sync store without one) unless allowed.
   * @throws {TimelineError} `NOT_SUPPORTED` when the journal is on and the message store's backend
   *   has no keyed-record capability.
   */
  constructor(options: MessengerOptions<T>) {
    const parts = messengerParts(options);
    this.largeGroupThreshold = parts.threshold;
    this.#send = parts.send;
    this.#sync = parts.sync;
    this.#conv = parts.conversations;
    this.#change = parts.lifecycle;
    this.#lifecycleOff = parts.lifecycleOff;
    this.#recent = new RecentSends(parts.recentSends);
    this.#deliverToSender = parts.deliverToSender;
    if (parts.recoverEvery !== undefined) this.#startSweep(parts.recoverEvery);
  }

  /**
   * Create what the Messenger needs before the first call: the message and sync stores' tables and
   * the journal's record table. Optional (the first call does it lazily); call it at start-up to
   * fail fast on a wrong table. Concurrent calls share one initialisation; a failed one is retried
   * by the next call.
   * @throws {TableIncompatibleError} when an existing table has another layout or TTL.
   */
  async init(): Promise<void> {
    await Promise.all([this.#send.store.store.init(), this.#send.inbox.store.init(), this.#send.ready(), this.#change?.ready(), this.#conv?.ready()]);
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
    const req = checkSendInput<T>(input, this.#deliverToSender);
    const attempt = () => (this.#send.journal === undefined ? sendPlain(this.#send, req) : sendJournaled(this.#send, req));
    return this.#recent.run(req.conversationId, req.messageId, req.targets, attempt);
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
    if (options?.userId !== undefined && changes !== undefined) await this.#change!.ready();
    return readHistory(
      {
        store: this.#send.store,
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
    return deleteForUser(ctx, checkDeleteInput(input));
  }

  #lifecycle(operation: string): ChangeContext<T> {
    if (this.#change === undefined) {
      throw new TimelineError('NOT_SUPPORTED', `${operation}() needs the message lifecycle, which is off: ${this.#lifecycleOff}`, { operation });
    }
    return this.#change;
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
