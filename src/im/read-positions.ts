// Messenger.markRead: move a user's read position in a conversation forward.
import { randomBytes } from 'node:crypto';
import createDebug from 'debug';
import { ValidationError } from '../core/errors.js';
import { checkOptionsObject, checkSeq, checkSignal, checkTimelineId } from '../core/validate.js';
import type { ConversationContext } from './conversations.js';
import type { MarkReadInput, MarkReadResult } from './conversation-types.js';
import { readClock } from './internal.js';
import { deliverEvent, type ReadEvent } from './sync-events.js';

const log = createDebug('tablestore-timeline:conversations');

/**
 * Checks membership and the conversation's newest seq (two reads, in parallel), then writes the
 * position on the user's side and, for a conversation with list rows (write diffusion), on the
 * conversation's side for receipts: one request, each row a monotonic put, so concurrent devices
 * and stale ones settle on the largest position.
 */
export async function markRead<T>(ctx: ConversationContext<T>, input: MarkReadInput): Promise<MarkReadResult> {
  const opts = checkOptionsObject(input, 'input') as Partial<MarkReadInput>;
  const userId = checkTimelineId(opts.userId, 'input.userId');
  const conversationId = checkTimelineId(opts.conversationId, 'input.conversationId');
  const asked = checkSeq(opts.seq, 'input.seq');
  const signal = checkSignal(opts.signal, 'input.signal');
  await ctx.ready();
  const [listed, newest] = await Promise.all([ctx.records.activity(userId, conversationId, signal), ctx.store.store.timeline(conversationId).latest({ signal })]);
  if (newest === undefined) {
    throw new ValidationError('input.conversationId', `\`input.conversationId\`: conversation ${JSON.stringify(conversationId)} has no messages, so there is nothing to mark read; is the id right?`, {
      timelineId: conversationId,
    });
  }
  if (listed === undefined) {
    const groups = await ctx.largeGroups(userId);
    if (!groups.some((g) => g.conversationId === conversationId)) {
      throw new ValidationError(
        'input.userId',
        `\`input.userId\`: user ${JSON.stringify(userId)} is not a member of conversation ${JSON.stringify(conversationId)}: no message of it reached the user, and it is not among the user's large groups (largeGroupsOf)`,
        { timelineId: conversationId },
      );
    }
  }
  // A device can only have seen messages that exist: a larger seq (a bug, or a forged value) is
  // clamped, so that it cannot hide every future message from the unread count.
  const seq = asked > newest.seq ? newest.seq : asked;
  const advanced = await ctx.records.markRead(userId, conversationId, seq, listed !== undefined, signal);
  if (!advanced) return { seq, advanced, notified: false };
  // The user's other devices learn it on their next sync (one inbox row, one request); devices that
  // miss it (a failed write, an expired inbox) still see the right counts in conversations().
  const event: ReadEvent = { type: 'read', eventId: `read:${randomBytes(12).toString('base64url')}`, conversationId, by: userId, at: readClock(ctx.now), seq };
  const delivered = await deliverEvent(ctx.inbox, [userId], event, { concurrency: 1, dedupeWindow: ctx.dedupeWindow, retry: false, ...(signal === undefined ? {} : { signal }) });
  if (delivered.failed.length > 0) log('read event of %s in %s: %O', userId, conversationId, delivered.failed[0]!.error);
  return { seq, advanced, notified: delivered.failed.length === 0 };
}
