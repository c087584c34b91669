// The Messenger's public types: messages, entries, options, send and sync. Each option and field
// carries its TSDoc (defaults, caveats); there is no logic here. The send journal's and the message
// lifecycle's types live in journal-types.ts and lifecycle-types.ts, re-exported from here.
import type { Seq } from '../core/types.js';
import type { ConversationOptions } from './conversation-types.js';
import type { FanOutResult } from './fan-out.js';
import type { StoredSyncEvent, SyncEvent } from './sync-events.js';
import type { SyncResult } from './sync-timeline.js';
import type { StoreTimeline } from './store-timeline.js';
import type { SyncTimeline } from './sync-timeline.js';
import type { JournalOptions } from './journal-types.js';
import type { CanModify, LifecycleOptions } from './lifecycle-types.js';

export type { JournalOptions, RecoverOptions, RecoverResult } from './journal-types.js';
export type { CanModify, ChangeResult, DeleteForMeInput, EditInput, LifecycleOptions, ModifyRequest, RecallInput } from './lifecycle-types.js';

/** What the Messenger keeps in a conversation's store timeline (the message store). */
export interface StoredMessage<T> {
  /** Who sent it. */
  readonly senderId: string;
  /** When it was stored, in milliseconds since the epoch (the Messenger's clock). */
  readonly sentAt: number;
  /** The application's message; null in an event entry and in a recalled message. */
  readonly message: T;
  /** Set when the message was recalled: by whom and when. Its content is gone (`message` is null). */
  readonly recalled?: RecallMark;
  /** Set when the message was edited: by whom, when (the latest edit) and how many times. */
  readonly edited?: EditMark;
  /** The number of changes (edits, a recall) applied to the message; absent for none. */
  readonly revision?: number;
  /**
   * Set in an event entry (a change appended to a large group's timeline for read diffusion), which
   * is not a message: history skips it and members' syncs return it in `events`.
   */
  readonly event?: StoredSyncEvent;
}

/** Who recalled a message, and when. */
export interface RecallMark {
  /** The user who recalled it. */
  readonly by: string;
  /** When, in milliseconds since the epoch (the Messenger's clock). */
  readonly at: number;
}

/** The latest edit of a message. */
export interface EditMark {
  /** The user who made the latest edit. */
  readonly by: string;
  /** When the latest edit was made, in milliseconds since the epoch. */
  readonly at: number;
  /** How many edits the message has had. */
  readonly count: number;
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
  /** The application's message; null in an event row and in a recalled message's scrubbed copy. */
  readonly message: T;
  /** Set in the copy of a recalled message, whose content was removed from the inbox too. */
  readonly recalled?: RecallMark;
  /** The message's revision in a recalled copy. */
  readonly revision?: number;
  /** Set in an event row (a change, see {@link SyncEvent}), which is not a message. */
  readonly event?: StoredSyncEvent;
}

/**
 * The result of {@link Messenger.sync}: new messages in `entries`, and changes (recalls, edits,
 * deletes) in `events`, both in the order they were stored, under one cursor. An event never
 * precedes what it changes, so applying `entries` and then `events` is always correct.
 */
export interface MessengerSyncResult<T> extends SyncResult<MessengerEntry<T>> {
  /** Changes to messages delivered before (or in `entries`), oldest first. */
  readonly events: SyncEvent<T>[];
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
  /**
   * The application's message: the latest content after edits. **null for a recalled message**
   * (check `recalled` first).
   */
  readonly message: T;
  /** Set for a recalled message (a tombstone that keeps its seq): who recalled it, and when. */
  readonly recalled?: RecallMark;
  /** When the message was last edited (absent when never edited). */
  readonly editedAt?: number;
  /** How many times the message was edited (absent when never edited). */
  readonly editCount?: number;
  /**
   * The number of changes applied to this state of the message (absent: none). A device keeps,
   * per message, the state with the highest revision it has seen (entries and events alike).
   */
  readonly revision?: number;
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
   * devices that miss a notification catch up on their next sync. Called when the call stored the
   * message or wrote inbox rows (also by `recover` for the sends it finishes); not for a duplicate
   * answered without writing (from the journal or the in-process cache).
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
   * Without a journal (`journal: false`) only: whether `send` reads the conversation's newest
   * `dedupeWindow` entries before storing, to recognise a re-sent `messageId` from any process.
   * `false` saves that read, and re-sends are recognised only by this process's `recentSends`
   * cache. Ignored with the journal, whose claim is itself the check.
   * @default true
   */
  checkBeforeSend?: boolean;
  /**
   * The send journal, which makes each `(conversationId, messageId)` send one logical operation
   * across processes and restarts: the first caller claims it (a conditional write) and stores and
   * fans out; a concurrent or later caller gets the same {@link SendResult} with `duplicate: true`;
   * a send whose process died is finished by {@link Messenger.recover}. It lives in a record table
   * of the message store's backend (which must have the keyed-record capability). `false` turns it
   * off: re-sends are then recognised by a read of the conversation's tail (see
   * `checkBeforeSend`), two copies racing in different processes can both store, and a crash
   * mid-fan-out is repaired only by the client re-sending.
   * @default {} (on, with the defaults of {@link JournalOptions})
   */
  journal?: JournalOptions | false;
  /**
   * The conversation list, read positions and receipts ({@link Messenger.conversations},
   * {@link Messenger.markRead}, {@link Messenger.readReceipts}), kept in a record table of the
   * message store's backend. Cost when on: each write-diffused send also moves one list row per
   * inbox it reaches, in batches of 200 (⌈targets/200⌉ extra requests, sent beside the fan-out);
   * read-diffused sends write nothing more. See docs/architecture.md, "Conversations".
   * @default false (off: those methods reject with `NOT_SUPPORTED`)
   */
  conversations?: ConversationOptions | false;
  /**
   * Run {@link Messenger.recover} every this many milliseconds in the background (an unref'd
   * timer, stopped by {@link Messenger.close}). Undefined: only when called.
   */
  recoverEvery?: number;
  /**
   * Accept a message store whose table has a TTL. History is the message store's job: with a TTL
   * it silently expires (and roaming with it), so the constructor refuses it unless this is true.
   * @default false
   */
  allowExpiringHistory?: boolean;
  /**
   * Accept a sync store whose table keeps entries forever. Inboxes are a delivery buffer: without
   * a TTL each grows without bound, so the constructor refuses it unless this is true.
   * @default false
   */
  allowPermanentInboxes?: boolean;
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
  /**
   * The message lifecycle (recall, edit, delete-for-me). It needs the message store's backend to
   * have the keyed-record and the `mutations` capabilities; with the default (`{}`) it is off
   * when they are missing (the lifecycle methods then reject with `NOT_SUPPORTED`), while an
   * explicit object makes the constructor reject. `false` turns it off.
   * @default {}
   */
  lifecycle?: LifecycleOptions | false;
  /**
   * Who may recall or edit a message. Default: only its sender; a recall only within
   * `lifecycle.recallWindowMs` of `sentAt`. A custom rule replaces the default entirely (it gets
   * `withinRecallWindow` to keep that part).
   */
  canModify?: CanModify<T>;
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
   * The per-user view: leave out the messages this user deleted for themselves
   * ({@link Messenger.deleteForMe}). Default: every message.
   */
  userId?: string;
  /**
   * Most entries to return (a positive integer).
   * @default 50
   */
  limit?: number;
  /** Stops the read: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}
