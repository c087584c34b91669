import type { Seq } from '../core/types.js';
import type { ConversationKind } from './conversation-records.js';
import type { DiffusionMode, MessengerEntry } from './messenger-types.js';

export type { ConversationKind } from './conversation-records.js';

/**
 * Options of the conversation list, read positions and receipts ({@link MessengerOptions.conversations}).
 * They live in a record table of the message store's backend, which must have the keyed-record
 * capability.
 */
export interface ConversationOptions {
  /**
   * The record table. Created by {@link Messenger.init} (or lazily by the first call). No TTL: read
   * positions must outlive every inbox.
   * @default `${storeTable}_conv`
   */
  table?: string;
  /**
   * Unread counts are exact up to this many; above it an item says `unread: unreadCap` and
   * `unreadCapped: true` (show "99+"). Each listed conversation with unread messages reads up to
   * `unreadCap + 1` of its newest entries.
   * @default 99
   */
  unreadCap?: number;
  /**
   * Most records read from one partition in one call: the rows of one user's list (two per
   * conversation: its latest activity and its read position), or the read positions of one
   * conversation for receipts. A call that would read more rejects with `NOT_SUPPORTED` instead of
   * answering from a part of them.
   * @default 20000
   */
  maxRows?: number;
}

/** One conversation of {@link Messenger.conversations}. */
export interface ConversationItem<T> {
  /** The conversation. */
  readonly conversationId: string;
  /**
   * `'direct'` when its latest send reached exactly two users (the sender and one recipient),
   * else `'group'`. Large groups (read diffusion) are always `'group'`.
   */
  readonly kind: ConversationKind;
  /** How its messages reach this user: `'write'` through the inbox, `'read'` from the conversation (a large group). */
  readonly diffusion: DiffusionMode;
  /** Its newest message, as stored now (undefined only when its history was deleted). */
  readonly lastMessage: MessengerEntry<T> | undefined;
  /** `sentAt` of its newest message, in milliseconds since the epoch; the list's order. */
  readonly lastActivityAt: number;
  /**
   * Messages from others after the user's read position and after the user's own latest message
   * (sending implies having read what came before). Exact up to `unreadCap`; never negative.
   */
  readonly unread: number;
  /** True when there are more than `unreadCap` unread messages (`unread` is then `unreadCap`). */
  readonly unreadCapped: boolean;
  /** The user's read position (the seq given to `markRead`, as clamped), or undefined if never marked. */
  readonly readSeq: Seq | undefined;
}

/** Options of {@link Messenger.conversations}. */
export interface ConversationsOptions {
  /**
   * Most conversations to return (1 to 100).
   * @default 20
   */
  limit?: number;
  /** The `next` of the previous page. Undefined: the first page (the newest activity). */
  cursor?: string;
  /** Stops the call: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** One page of {@link Messenger.conversations}. */
export interface ConversationPage<T> {
  /** Newest activity first (ties: by conversation id). */
  readonly items: ConversationItem<T>[];
  /** Pass as `cursor` for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

/** The input of {@link Messenger.markRead}. */
export interface MarkReadInput {
  /** Who read. */
  userId: string;
  /** Where. */
  conversationId: string;
  /** The seq of the newest message read (its `seq`, from sync or history). */
  seq: Seq;
  /** Stops the call: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** The result of {@link Messenger.markRead}. */
export interface MarkReadResult {
  /** The position asked for, clamped to the conversation's newest message. */
  readonly seq: Seq;
  /** False when the stored position was already at `seq` or beyond (another device read further): nothing changed. */
  readonly advanced: boolean;
  /**
   * True when a `read` sync event was written to the user's inbox, so that the user's other devices
   * clear their badge on their next sync. False when nothing advanced, or that write failed (their
   * `conversations()` still shows the right count).
   */
  readonly notified: boolean;
}

/** The input of {@link Messenger.readReceipts}. */
export interface ReadReceiptsInput {
  /** The conversation (a 1:1 chat or a group of at most `largeGroupThreshold` members). */
  conversationId: string;
  /** The message whose readers are asked for. */
  seq: Seq;
  /**
   * The conversation's members, when the answer should also list who has not read it. Over
   * `largeGroupThreshold` members is `NOT_SUPPORTED`.
   */
  members?: readonly string[];
  /** Stops the call: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** The result of {@link Messenger.readReceipts}. */
export interface ReadReceipts {
  /** Users whose read position is at `seq` or beyond, sorted (restricted to `members` when given). */
  readonly readBy: string[];
  /** With `members`: the members who have not read it, sorted. Without: undefined. */
  readonly notReadBy: string[] | undefined;
}
