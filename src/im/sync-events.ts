// Sync events: changes to things a device already has (a recall, an edit, a delete-for-me, and
// later a read position), carried by the same rows, the same order and the same cursor as messages.
// See docs/architecture.md ("Sync events").
import createDebug from 'debug';
import type { Seq, TimelineEntry } from '../core/types.js';
import { deliver, type FanOutResult } from './fan-out.js';
import { findInTail, toTimelineError } from './internal.js';
import type { InboxMessage, StoredMessage } from './messenger-types.js';
import type { StoreTimeline } from './store-timeline.js';
import type { SyncTimeline } from './sync-timeline.js';

const log = createDebug('tablestore-timeline:events');

/** What every sync event carries. */
export interface SyncEventBase {
  /** The kind of change; the union {@link SyncEvent} lists them. */
  readonly type: string;
  /**
   * Unique id of the change. Every row that carries it (one per inbox, or one in a large group's
   * store timeline) stores it as its message id, so that a retried change writes no second row
   * and a device can drop an event it has already applied.
   */
  readonly eventId: string;
  /** The conversation the change concerns. */
  readonly conversationId: string;
  /** The user who made the change. */
  readonly by: string;
  /** When the change was made, in milliseconds since the epoch (the Messenger's clock). */
  readonly at: number;
}

/**
 * A message was recalled ("unsend"): it is now a tombstone in history, its content gone from the
 * message store. Terminal: no later edit applies.
 */
export interface RecallEvent extends SyncEventBase {
  readonly type: 'recall';
  /** The seq of the recalled message in its conversation. */
  readonly seq: Seq;
  /** The message's revision after the recall (see {@link EditEvent.revision}). */
  readonly revision: number;
}

/** A message was edited: its content is now `message`. */
export interface EditEvent<T> extends SyncEventBase {
  readonly type: 'edit';
  /** The seq of the edited message in its conversation. */
  readonly seq: Seq;
  /** The new content. */
  readonly message: T;
  /** When it was edited (equals `at`). */
  readonly editedAt: number;
  /** How many edits the message has had, this one included. */
  readonly editCount: number;
  /**
   * The message's revision after this change: 1 for its first change, then 2, … Every device
   * keeps, per message, the state of the highest revision it has seen, so that events applied in
   * any order (or twice) end in the same state as history.
   */
  readonly revision: number;
}

/** The user deleted a message for themselves: hide it on every one of that user's devices. */
export interface DeleteEvent extends SyncEventBase {
  readonly type: 'delete';
  /** The seq of the hidden message in its conversation. */
  readonly seq: Seq;
}

/**
 * The user read a conversation up to `seq` on one device (`Messenger.markRead`): the user's other
 * devices clear their badge for it (unread messages are those after `seq` from others). Delivered
 * to the user's own inbox only. Positions only move forward: keep the largest `seq` seen.
 */
export interface ReadEvent extends SyncEventBase {
  readonly type: 'read';
  /** The read position: the seq of the newest message read. */
  readonly seq: Seq;
}

/**
 * A change carried by `Messenger.sync` beside new messages. New kinds are added to this union
 * (and to `SYNC_EVENT_TYPES` in src/im/sync-events.ts); a device should ignore a `type` it does
 * not know.
 */
export type SyncEvent<T> = RecallEvent | EditEvent<T> | DeleteEvent | ReadEvent;

/** The event types this version decodes; rows of other types are skipped (written by a newer version). */
export const SYNC_EVENT_TYPES: ReadonlySet<string> = new Set(['recall', 'edit', 'delete', 'read']);

/**
 * An event as stored inside an inbox row ({@link InboxMessage.event}) or a store-timeline entry
 * ({@link StoredMessage.event}). The envelope around it carries the conversation, `by` (as
 * `senderId`), `at` (as `sentAt`) and the target seq; this holds the rest.
 */
export interface StoredSyncEvent {
  /** The event type. */
  readonly type: string;
  /** The event id (also the row's message id). */
  readonly id: string;
  /** The event's own fields other than those of {@link SyncEventBase} and `seq`. */
  readonly data?: Readonly<Record<string, unknown>>;
}

// Fields of SyncEventBase (and seq) that the envelope carries instead of `data`.
const ENVELOPE_FIELDS = new Set(['type', 'eventId', 'conversationId', 'by', 'at', 'seq']);

function split(event: SyncEvent<unknown>): StoredSyncEvent {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (!ENVELOPE_FIELDS.has(key) && value !== undefined) data[key] = value;
  return Object.keys(data).length === 0 ? { type: event.type, id: event.eventId } : { type: event.type, id: event.eventId, data };
}

function targetSeq(event: SyncEvent<unknown>): Seq | undefined {
  return 'seq' in event ? event.seq : undefined;
}

/** The inbox row that carries `event`. Its `message` is null: the row is not a message. */
export function eventInboxRow<T>(event: SyncEvent<T>): InboxMessage<T> {
  // An event without a target seq (none yet) still needs a seq field of the InboxMessage shape: -1
  // is never a message's seq.
  return { conversationId: event.conversationId, seq: targetSeq(event) ?? -1n, senderId: event.by, sentAt: event.at, message: null as T, event: split(event) };
}

/** The store-timeline entry that carries `event` (read diffusion). Its `message` is null. */
export function eventStoreEntry<T>(event: SyncEvent<T>): StoredMessage<T> {
  const stored = split(event);
  const seq = targetSeq(event);
  return { senderId: event.by, sentAt: event.at, message: null as T, event: seq === undefined ? stored : { ...stored, data: { ...stored.data, seq } } };
}

/** Decodes the event of an inbox row; undefined for a type this version does not know. */
export function eventFromInbox<T>(row: InboxMessage<T>): SyncEvent<T> | undefined {
  const stored = row.event!;
  return build(stored, row.conversationId, row.senderId, row.sentAt, row.seq < 0n ? undefined : row.seq);
}

/** Decodes the event of a store-timeline entry; undefined for a type this version does not know. */
export function eventFromStore<T>(conversationId: string, stored: StoredMessage<T>): SyncEvent<T> | undefined {
  const event = stored.event!;
  const seq = event.data?.seq;
  return build(event, conversationId, stored.senderId, stored.sentAt, typeof seq === 'bigint' ? seq : undefined);
}

function build<T>(stored: StoredSyncEvent, conversationId: string, by: string, at: number, seq: Seq | undefined): SyncEvent<T> | undefined {
  if (stored === null || typeof stored !== 'object' || typeof stored.type !== 'string' || typeof stored.id !== 'string') return undefined;
  if (!SYNC_EVENT_TYPES.has(stored.type)) {
    log('skipping an event of unknown type %s in conversation %s', stored.type, conversationId);
    return undefined;
  }
  const { seq: _ignored, ...data } = (stored.data ?? {}) as Record<string, unknown>;
  void _ignored;
  return { ...data, type: stored.type, eventId: stored.id, conversationId, by, at, ...(seq === undefined ? {} : { seq }) } as unknown as SyncEvent<T>;
}

/** True when a stored row is an event, not a message. */
export function isEventRow(value: { readonly event?: unknown } | null | undefined): boolean {
  return value !== null && typeof value === 'object' && value.event !== undefined && value.event !== null;
}

/** Options of {@link deliverEvent} and {@link appendEvent}. */
export interface EventWriteOptions {
  /** Backend requests in flight at once. */
  readonly concurrency: number;
  /** How many newest rows a retry searches for the event id. */
  readonly dedupeWindow: number;
  /**
   * True when this event may have been written before (a retried change): each inbox (or the
   * store timeline) is searched for the event id first and not written twice. Costs one read each.
   */
  readonly retry: boolean;
  /** Stops the writes. */
  readonly signal?: AbortSignal;
}

/**
 * Writes an event into the inboxes of `userIds` (write diffusion), batched like a message's
 * fan-out: up to the backend's `maxBatchRows` inboxes per request, `concurrency` requests at once.
 * Every row's message id is the event id. Per-inbox failures are returned, not thrown.
 * @internal
 */
export async function deliverEvent<T>(inbox: SyncTimeline<InboxMessage<T>>, userIds: readonly string[], event: SyncEvent<T>, options: EventWriteOptions): Promise<FanOutResult> {
  try {
    return await deliver(inbox.store, [...new Set(userIds)], eventInboxRow(event), {
      messageId: event.eventId,
      concurrency: options.concurrency,
      signal: options.signal,
      skipExisting: options.retry,
      dedupeWindow: options.dedupeWindow,
      messageParameter: 'event',
    });
  } catch (error) {
    const wrapped = toTimelineError(error, event.type);
    return { messageId: event.eventId, delivered: [], failed: userIds.map((receiverId) => ({ receiverId, error: wrapped })) };
  }
}

/**
 * Appends an event to a conversation's store timeline (read diffusion: members' syncs read it
 * there, after the messages before it). With `retry`, an entry already holding the event id is
 * returned instead of writing a second one.
 * @internal
 */
export async function appendEvent<T>(
  store: StoreTimeline<StoredMessage<T>>,
  event: SyncEvent<T>,
  options: EventWriteOptions,
): Promise<TimelineEntry<StoredMessage<T>>> {
  const timeline = store.store.timeline(event.conversationId);
  if (options.retry) {
    const found = await findInTail(timeline, event.eventId, options.dedupeWindow, options.signal, (e) => isEventRow(e.message));
    if (found !== undefined) return found;
  }
  return timeline.append(eventStoreEntry(event), { messageId: event.eventId, signal: options.signal });
}
