// Messenger.readReceipts: who has read a conversation up to a message.
import { TimelineError } from '../core/errors.js';
import { checkOptionsObject, checkSeq, checkSignal, checkTimelineId, checkTimelineIds } from '../core/validate.js';
import type { ConversationContext } from './conversations.js';
import type { ReadReceipts, ReadReceiptsInput } from './conversation-types.js';

/**
 * One scan of the conversation's read positions (kept by `markRead` for write-diffused
 * conversations, at most `largeGroupThreshold` members): ⌈rows/5000⌉ requests on TableStore.
 */
export async function readReceipts<T>(ctx: ConversationContext<T>, input: ReadReceiptsInput): Promise<ReadReceipts> {
  const opts = checkOptionsObject(input, 'input') as Partial<ReadReceiptsInput>;
  const conversationId = checkTimelineId(opts.conversationId, 'input.conversationId');
  const seq = checkSeq(opts.seq, 'input.seq');
  const members = opts.members === undefined ? undefined : checkTimelineIds(opts.members, 'input.members');
  const signal = checkSignal(opts.signal, 'input.signal');
  if (members !== undefined && members.length > ctx.threshold) {
    throw new TimelineError(
      'NOT_SUPPORTED',
      `read receipts are kept for conversations of at most largeGroupThreshold (${ctx.threshold}) members; ${JSON.stringify(conversationId)} has ${members.length}. Large groups keep read positions on the members' side only (their unread counts), not per message`,
      { operation: 'readReceipts', timelineId: conversationId },
    );
  }
  await ctx.ready();
  const positions = await ctx.records.receipts(conversationId, ctx.maxRows, signal);
  const readers = new Set([...positions].filter(([, at]) => at >= seq).map(([userId]) => userId));
  if (members === undefined) return { readBy: [...readers].sort(), notReadBy: undefined };
  return { readBy: members.filter((m) => readers.has(m)).sort(), notReadBy: members.filter((m) => !readers.has(m)).sort() };
}
