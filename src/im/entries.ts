// Maps stored rows to what the Messenger returns.
import { TimelineError } from '../core/errors.js';
import type { TimelineEntry } from '../core/types.js';
import type { InboxMessage, MessengerEntry, StoredMessage } from './messenger-types.js';

/** A history entry as a {@link MessengerEntry}; a CODEC error when it was not written by `send`. */
export function fromStored<T>(conversationId: string, entry: TimelineEntry<StoredMessage<T>>): MessengerEntry<T> {
  const stored = entry.message;
  if (stored === null || typeof stored !== 'object' || typeof stored.senderId !== 'string' || typeof stored.sentAt !== 'number') {
    throw new TimelineError('CODEC', `entry ${entry.seq} of conversation ${JSON.stringify(conversationId)} is not a StoredMessage; was it written by Messenger.send?`, {
      operation: 'read',
      timelineId: conversationId,
    });
  }
  const base: MessengerEntry<T> =
    entry.messageId === undefined
      ? { conversationId, seq: entry.seq, senderId: stored.senderId, sentAt: stored.sentAt, message: stored.message }
      : { conversationId, seq: entry.seq, senderId: stored.senderId, sentAt: stored.sentAt, messageId: entry.messageId, message: stored.message };
  // Only a changed message carries the lifecycle fields, so that unchanged entries keep their shape.
  if (stored.revision === undefined) return base;
  return {
    ...base,
    ...(stored.recalled === undefined ? {} : { recalled: { by: stored.recalled.by, at: stored.recalled.at } }),
    ...(stored.edited === undefined ? {} : { editedAt: stored.edited.at, editCount: stored.edited.count }),
    revision: stored.revision,
  };
}

/** An inbox entry as a {@link MessengerEntry}; a CODEC error when it was not written by `send`. */
export function fromInbox<T>(entry: TimelineEntry<InboxMessage<T>>): MessengerEntry<T> {
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
