// The public types of the message lifecycle: recall, edit and delete-for-me, and the permission
// rule that guards them. No logic here.
import type { Seq } from '../core/types.js';
import type { FanOutResult } from './fan-out.js';
import type { DiffusionMode, MessengerEntry } from './messenger-types.js';
import type { SyncEvent } from './sync-events.js';

/** What {@link MessengerOptions.canModify} is asked about. */
export interface ModifyRequest<T> {
  /** The change asked for. */
  readonly action: 'recall' | 'edit';
  /** The user asking. */
  readonly by: string;
  /** The message as it is now (its latest content). */
  readonly entry: MessengerEntry<T>;
  /** The Messenger's clock now, in milliseconds since the epoch. */
  readonly now: number;
  /** Whether `now` is within `recallWindowMs` of the message's `sentAt`. */
  readonly withinRecallWindow: boolean;
}

/**
 * The permission rule for recall and edit: `true` allows the change; `false` or a string (the
 * reason, quoted in the error) refuses it with a `FORBIDDEN` error.
 */
export type CanModify<T> = (request: ModifyRequest<T>) => boolean | string | Promise<boolean | string>;

/** Options of the message lifecycle ({@link MessengerOptions.lifecycle}). */
export interface LifecycleOptions {
  /**
   * The record table of change records (a per-message lock and revision, the request ids applied)
   * and delete-for-me marks. Created by {@link Messenger.init} (or lazily by the first change).
   * @default `${storeTable}_changes`
   */
  table?: string;
  /**
   * How long after `sentAt` the default permission rule lets the sender recall a message, in
   * milliseconds.
   * @default 120000 (2 minutes)
   */
  recallWindowMs?: number;
}

/** The input of {@link Messenger.recall}. */
export interface RecallInput {
  /** The conversation of the message. */
  conversationId: string;
  /** The message's seq in the conversation. */
  seq: Seq;
  /** Who recalls it (checked by `canModify`). */
  by: string;
  /** A client-generated id that makes a repeated request safe: the same id applies once. */
  requestId: string;
  /**
   * Whose inboxes learn of it (write diffusion), as given to `send`. Default: the recipients the
   * send journal recorded for the message (kept for `journal.ttlSeconds`).
   */
  recipients?: readonly string[];
  /** Stops the change between requests. */
  signal?: AbortSignal;
}

/** The input of {@link Messenger.edit}. */
export interface EditInput<T> extends RecallInput {
  /** The new content. */
  message: T;
}

/** The input of {@link Messenger.deleteForMe}. */
export interface DeleteForMeInput {
  /** Whose view loses the message. */
  userId: string;
  /** The conversation of the message. */
  conversationId: string;
  /** The message's seq in the conversation. */
  seq: Seq;
  /** Stops the change between requests. */
  signal?: AbortSignal;
}

/** The result of {@link Messenger.recall}, {@link Messenger.edit} and {@link Messenger.deleteForMe}. */
export interface ChangeResult<T> {
  /** The message in its state after the change (what history shows). */
  readonly entry: MessengerEntry<T>;
  /** The event this call delivered; absent for a duplicate request. */
  readonly event?: SyncEvent<T>;
  /** How the event travelled: to inboxes (`'write'`) or through the group's timeline (`'read'`). */
  readonly mode: DiffusionMode;
  /** Which inboxes hold the event (empty for read diffusion). Repeat the request to retry failures. */
  readonly fanOut: FanOutResult;
  /** True when this request id had already been applied: nothing was written. */
  readonly duplicate: boolean;
}
