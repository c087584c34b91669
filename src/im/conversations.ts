// Messenger.conversations: the user's conversation list, newest activity first, with unread counts.
//
// Order comes from the user's list rows (one per write-diffused conversation, moved by every send)
// and from the newest entry of each large group (read diffusion writes no per-member row); last
// message and unread count are read from the conversation itself when the page is built, so they
// agree on every device and follow recalls and edits of stored entries.
import pLimit from 'p-limit';
import { InvalidCursorError, ValidationError } from '../core/errors.js';
import type { TimelineEntry, Seq } from '../core/types.js';
import { checkOptionsObject, checkSignal, checkTimelineId } from '../core/validate.js';
import type { ConversationRecords, ConversationKind } from './conversation-records.js';
import type { ConversationItem, ConversationPage, ConversationsOptions } from './conversation-types.js';
import { fromStored } from './entries.js';
import { describe } from './internal.js';
import { isEventRow } from './sync-events.js';
import type { Timeline } from '../core/timeline.js';
import type { DiffusionMode, InboxMessage, StoredMessage } from './messenger-types.js';
import type { SyncTimeline } from './sync-timeline.js';
import type { StoreTimeline } from './store-timeline.js';

/** Default of {@link ConversationOptions.unreadCap}. */
export const DEFAULT_UNREAD_CAP = 99;
/** Default of {@link ConversationOptions.maxRows}. */
export const DEFAULT_MAX_ROWS = 20_000;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** Most entries (messages and event entries) one tail read goes through. */
const MAX_TAIL_ROWS = 5000;

/** What the conversation flows need from the Messenger. */
export interface ConversationContext<T> {
  readonly records: ConversationRecords;
  readonly store: StoreTimeline<StoredMessage<T>>;
  /** The sync store: `markRead` sends a read event to the user's own inbox. */
  readonly inbox: SyncTimeline<InboxMessage<T>>;
  readonly now: () => number;
  readonly dedupeWindow: number;
  /** The user's large groups, validated (the Messenger's `largeGroupsOf`). */
  readonly largeGroups: (userId: string) => Promise<{ conversationId: string; from: Seq | undefined }[]>;
  readonly unreadCap: number;
  readonly maxRows: number;
  readonly threshold: number;
  readonly concurrency: number;
  /** Creates the record table once. */
  readonly ready: () => Promise<void>;
}

/** A conversation's newest entry and unread count for one user. */
export interface Tail<T> {
  readonly last: TimelineEntry<StoredMessage<T>> | undefined;
  readonly unread: number;
  readonly capped: boolean;
}

interface Candidate<T> {
  readonly conversationId: string;
  readonly at: number;
  readonly kind: ConversationKind;
  readonly diffusion: DiffusionMode;
  readonly floor: Seq | undefined;
  tail?: Tail<T>;
}

/** One page of the user's conversation list. */
export async function listConversations<T>(ctx: ConversationContext<T>, userId: string, options: ConversationsOptions | undefined): Promise<ConversationPage<T>> {
  checkTimelineId(userId, 'userId');
  const opts = checkOptionsObject(options) as ConversationsOptions;
  const limit = opts.limit === undefined ? DEFAULT_LIMIT : opts.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError('options.limit', `Expected \`options.limit\` to be an integer from 1 to ${MAX_LIMIT}, got ${describe(limit)}`);
  }
  const after = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, userId);
  const signal = checkSignal(opts.signal);
  await ctx.ready();
  const [rows, groups] = await Promise.all([ctx.records.userRows(userId, ctx.maxRows, signal), ctx.largeGroups(userId)]);
  const reads = rows.reads;
  const run = pLimit(ctx.concurrency);

  const candidates = new Map<string, Candidate<T>>();
  for (const row of rows.activity.values()) {
    candidates.set(row.conversationId, { conversationId: row.conversationId, at: row.at, kind: row.kind, diffusion: 'write', floor: undefined });
  }
  // A large group has no list row that follows its sends: its place is its newest entry, read now
  // (together with its unread count, which the page needs anyway).
  await Promise.all(
    groups.map((group) =>
      run(async () => {
        const floor = group.from === undefined ? undefined : group.from - 1n;
        const tail = await readTail(ctx, userId, group.conversationId, undefined, floorOf(reads.get(group.conversationId), floor), signal);
        const listed = candidates.get(group.conversationId);
        const at = Math.max(tail.last?.message.sentAt ?? Number.NEGATIVE_INFINITY, listed?.at ?? Number.NEGATIVE_INFINITY);
        if (!Number.isFinite(at)) return; // an empty group with no row: nothing to show yet
        candidates.set(group.conversationId, { conversationId: group.conversationId, at, kind: 'group', diffusion: 'read', floor, tail });
      }),
    ),
  );

  const sorted = [...candidates.values()].sort(order);
  const start = after === undefined ? 0 : sorted.findIndex((c) => order(c, { at: after.at, conversationId: after.conversationId }) > 0);
  const page = start < 0 ? [] : sorted.slice(start, start + limit);
  const hasMore = start >= 0 && start + limit < sorted.length;

  const items = await Promise.all(
    page.map((c) =>
      run(async (): Promise<ConversationItem<T>> => {
        const readSeq = reads.get(c.conversationId);
        const listedSeq = rows.activity.get(c.conversationId)?.seq;
        const tail = c.tail ?? (await readTail(ctx, userId, c.conversationId, listedSeq, floorOf(readSeq, c.floor), signal));
        return {
          conversationId: c.conversationId,
          kind: c.kind,
          diffusion: c.diffusion,
          lastMessage: tail.last === undefined ? undefined : fromStored(c.conversationId, tail.last),
          lastActivityAt: tail.last?.message.sentAt ?? c.at,
          unread: tail.unread,
          unreadCapped: tail.capped,
          readSeq,
        };
      }),
    ),
  );
  const last = page[page.length - 1];
  return { items, next: hasMore && last !== undefined ? encodeCursor(userId, last) : undefined };
}

/**
 * The newest entry of a conversation and the number of messages from others after `readSeq` and
 * after the user's own latest message, exact up to the cap: one range read of at most
 * `unreadCap + 1` entries (plus one read of the newest entry when nothing is unread).
 */
export async function readTail<T>(
  ctx: ConversationContext<T>,
  userId: string,
  conversationId: string,
  listedSeq: Seq | undefined,
  readSeq: Seq | undefined,
  signal: AbortSignal | undefined,
): Promise<Tail<T>> {
  const timeline = ctx.store.store.timeline(conversationId);
  // Known to be read up to the listed message: only its newest entry is needed, unless a newer one
  // slipped past the list row (a failed row write), which the read shows.
  if (listedSeq !== undefined && readSeq !== undefined && listedSeq <= readSeq) {
    const last = await latestMessage(timeline, signal);
    if (last === undefined || last.seq <= readSeq) return { last, unread: 0, capped: false };
  }
  // Event entries (changes appended for read diffusion) are not messages: skipped, and not counted
  // towards the cap. Bounded: at most MAX_TAIL_ROWS rows are read.
  const newest: TimelineEntry<StoredMessage<T>>[] = [];
  let unread = 0;
  let ownSeen = false;
  for await (const entry of timeline.scan({ direction: 'backward', limit: MAX_TAIL_ROWS, pageSize: ctx.unreadCap + 1, signal, ...(readSeq === undefined ? {} : { to: readSeq }) })) {
    if (isEventRow(entry.message)) continue;
    newest.push(entry);
    if (entry.message.senderId === userId) ownSeen = true; // sending implies having read what came before
    if (ownSeen) break;
    // A recalled message stays in place as a tombstone (it may be the last message) but is not
    // unread: there is nothing left to read.
    if (entry.message.recalled !== undefined) continue;
    if (++unread > ctx.unreadCap) break;
  }
  const capped = unread > ctx.unreadCap;
  const last = newest[0] ?? (readSeq === undefined ? undefined : await latestMessage(timeline, signal));
  return { last, unread: capped ? ctx.unreadCap : unread, capped };
}

// The newest entry that is a message (event entries skipped), within MAX_TAIL_ROWS.
async function latestMessage<T>(timeline: Timeline<StoredMessage<T>>, signal: AbortSignal | undefined): Promise<TimelineEntry<StoredMessage<T>> | undefined> {
  for await (const entry of timeline.scan({ direction: 'backward', limit: MAX_TAIL_ROWS, pageSize: 10, signal })) {
    if (!isEventRow(entry.message)) return entry;
  }
  return undefined;
}

function floorOf(readSeq: Seq | undefined, floor: Seq | undefined): Seq | undefined {
  if (floor === undefined) return readSeq;
  if (readSeq === undefined) return floor < 0n ? undefined : floor;
  return readSeq > floor ? readSeq : floor;
}

// Newest activity first; ties by conversation id (code-unit order is fine: it only has to be total).
function order(a: { at: number; conversationId: string }, b: { at: number; conversationId: string }): number {
  if (a.at !== b.at) return b.at - a.at;
  return a.conversationId < b.conversationId ? -1 : a.conversationId > b.conversationId ? 1 : 0;
}

// The cursor names the last item returned (its activity time and id): the next page starts after
// it in the order, so an item is never returned twice in one pass even while messages arrive.
function encodeCursor(userId: string, last: { at: number; conversationId: string }): string {
  return Buffer.from(JSON.stringify([1, userId, last.at, last.conversationId])).toString('base64url');
}

function decodeCursor(cursor: unknown, userId: string): { at: number; conversationId: string } {
  if (typeof cursor !== 'string') throw new InvalidCursorError(`Expected \`options.cursor\` to be the \`next\` string of a previous conversations() page, got ${describe(cursor)}`, { operation: 'conversations' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== 1 || typeof parsed[2] !== 'number' || !Number.isFinite(parsed[2]) || typeof parsed[3] !== 'string') {
    throw new InvalidCursorError('`options.cursor` is not a conversations() cursor; pass the `next` of a previous page, or omit it to start from the newest', { operation: 'conversations' });
  }
  if (parsed[1] !== userId) {
    throw new InvalidCursorError(`\`options.cursor\` was issued for another user than ${JSON.stringify(userId)}; start from the newest by omitting it`, { operation: 'conversations' });
  }
  return { at: parsed[2] as number, conversationId: parsed[3] as string };
}

