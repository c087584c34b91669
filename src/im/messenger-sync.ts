// Messenger.sync: the user's inbox merged with the store timelines of the user's large groups,
// under one cursor.
import pLimit from 'p-limit';
import { ValidationError } from '../core/errors.js';
import type { Seq } from '../core/types.js';
import { checkOptionalPositiveInteger, checkSeq, checkOptionsObject, checkSignal, checkTimelineId } from '../core/validate.js';
import { CursorKind, groupDigest, type CursorState } from './cursor.js';
import { fromInbox, fromStored } from './entries.js';
import { after, collect, describe, readClock } from './internal.js';
import type { InboxMessage, LargeGroup, MessengerEntry, MessengerOptions, MessengerSyncOptions, MessengerSyncResult, StoredMessage } from './messenger-types.js';
import type { StoreTimeline } from './store-timeline.js';
import { eventFromInbox, eventFromStore, isEventRow, type SyncEvent } from './sync-events.js';
import { DEFAULT_SYNC_LIMIT, isLimited, nextIssuedAt, type SyncTimeline } from './sync-timeline.js';

/** What the sync merge needs from the Messenger. */
export interface SyncContext<T> {
  readonly store: StoreTimeline<StoredMessage<T>>;
  readonly inbox: SyncTimeline<InboxMessage<T>>;
  readonly largeGroupsOf: NonNullable<MessengerOptions<T>['largeGroupsOf']>;
  readonly now: () => number;
  readonly concurrency: number;
}

// One row of a source: a message, or an event (undefined for an event type this version does not
// know, which still moves the position past it).
interface Item<T> {
  readonly sentAt: number;
  readonly entry?: MessengerEntry<T>;
  readonly event?: SyncEvent<T> | undefined;
}

interface Source<T> {
  readonly digest: string | undefined;
  readonly position: Seq | undefined;
  readonly entries: Item<T>[];
  readonly seqs: Seq[];
  taken: number;
}

/** See {@link Messenger.sync}. */
export async function syncMerged<T>(ctx: SyncContext<T>, userId: string, options: MessengerSyncOptions | undefined): Promise<MessengerSyncResult<T>> {
  checkTimelineId(userId, 'userId');
  const opts = checkOptionsObject(options) as MessengerSyncOptions;
  const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit') ?? DEFAULT_SYNC_LIMIT;
  const signal = checkSignal(opts.signal);
  const keyring = ctx.inbox.cursorKeyring;
  const scope = [ctx.inbox.store.table, ctx.store.store.table, userId];
  const previous: CursorState | undefined =
    opts.cursor === undefined
      ? undefined
      : keyring.open(CursorKind.messenger, scope, opts.cursor, 'options.cursor', `user ${JSON.stringify(userId)} of tables ${ctx.inbox.store.table} and ${ctx.store.store.table}`);
  const groups = await groupsOf(ctx, userId);
  const readAt = readClock(ctx.now);
  const limiter = pLimit(ctx.concurrency);
  const inboxSource = limiter(() => readInbox(ctx, userId, previous?.inbox, limit, signal));
  const groupSources = groups.map((group) => limiter(() => readGroup(ctx, group, previous, limit, signal)));
  // All awaited together: when one read fails, a second failing read must not be left as an
  // unhandled rejection (which terminates a Node process).
  const sources = await Promise.all([inboxSource, ...groupSources]);

  // Messages and events share the limit and the merge order: one position per source covers both.
  const entries: MessengerEntry<T>[] = [];
  const events: SyncEvent<T>[] = [];
  for (let count = 0; count < limit; count++) {
    let pick: Source<T> | undefined;
    for (const source of sources) {
      const head = source.entries[source.taken];
      if (head !== undefined && (pick === undefined || head.sentAt < pick.entries[pick.taken]!.sentAt)) pick = source;
    }
    if (pick === undefined) break;
    const item = pick.entries[pick.taken]!;
    if (item.entry !== undefined) entries.push(item.entry);
    else if (item.event !== undefined) events.push(item.event);
    pick.taken += 1;
  }
  const hasMore = sources.some((s) => s.taken < s.entries.length);
  const position = (s: Source<T>): Seq | undefined => (s.taken > 0 ? s.seqs[s.taken - 1] : s.position);
  const limited =
    isLimited(previous?.issuedAt, ctx.inbox.store.ttlSeconds, readAt) || isLimited(previous?.issuedAt, ctx.store.store.ttlSeconds, readAt);
  const cursor = keyring.seal(CursorKind.messenger, scope, {
    issuedAt: nextIssuedAt(previous, limited, hasMore, readAt),
    inbox: position(sources[0]!),
    groups: new Map(sources.slice(1).map((s) => [s.digest!, position(s)])),
  });
  return { entries, events, cursor, hasMore, limited };
}

export async function groupsOf<T>(ctx: SyncContext<T>, userId: string): Promise<{ conversationId: string; digest: string; from: Seq | undefined }[]> {
  const parameter = 'options.largeGroupsOf';
  const returned: unknown = await ctx.largeGroupsOf(userId);
  if (returned === null || typeof returned !== 'object' || typeof (returned as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to return an iterable of conversation ids, got ${describe(returned)}`);
  }
  const groups = new Map<string, { conversationId: string; digest: string; from: Seq | undefined }>();
  let index = 0;
  for (const item of returned as Iterable<unknown>) {
    const at = `${parameter}(${JSON.stringify(userId)})[${index++}]`;
    let conversationId: string;
    let from: Seq | undefined;
    if (typeof item === 'string') {
      conversationId = checkTimelineId(item, at);
    } else if (item !== null && typeof item === 'object') {
      const group = item as LargeGroup;
      conversationId = checkTimelineId(group.conversationId, `${at}.conversationId`);
      // A seq from the application is input like any other: a bigint above 2^64 - 1 must not reach
      // the backend (where it would throw a RangeError) nor a cursor.
      if (group.from !== undefined) checkSeq(group.from, `${at}.from`);
      from = group.from;
    } else {
      throw new ValidationError(at, `Expected \`${at}\` to be a conversation id or { conversationId, from? }, got ${describe(item)}`);
    }
    if (!groups.has(conversationId)) groups.set(conversationId, { conversationId, digest: groupDigest(conversationId), from });
  }
  return [...groups.values()];
}

async function readInbox<T>(ctx: SyncContext<T>, userId: string, position: Seq | undefined, limit: number, signal: AbortSignal | undefined): Promise<Source<T>> {
  const from = after(position);
  const read =
    from === null ? [] : await collect(ctx.inbox.store.timeline(userId).scan({ limit: limit + 1, signal, ...(from === undefined ? {} : { from }) }));
  const items = read.map((row): Item<T> => {
    const m = row.message as Partial<InboxMessage<T>> | null;
    return isEventRow(m) ? { sentAt: m!.sentAt ?? 0, event: eventFromInbox(row.message) } : { sentAt: m?.sentAt ?? 0, entry: fromInbox(row) };
  });
  return { digest: undefined, position, entries: items, seqs: read.map((e) => e.seq), taken: 0 };
}

async function readGroup<T>(
  ctx: SyncContext<T>,
  group: { conversationId: string; digest: string; from: Seq | undefined },
  previous: CursorState | undefined,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<Source<T>> {
  const timeline = ctx.store.store.timeline(group.conversationId);
  let position: Seq | undefined;
  if (previous?.groups.has(group.digest)) {
    position = previous.groups.get(group.digest);
  } else if (group.from !== undefined) {
    position = group.from === 0n ? undefined : group.from - 1n;
  } else {
    // First sight: start after the latest entry; what came before is history, not news.
    const latest = await timeline.latest({ signal });
    return { digest: group.digest, position: latest?.seq, entries: [], seqs: [], taken: 0 };
  }
  const from = after(position);
  const read = from === null ? [] : await collect(timeline.scan({ limit: limit + 1, signal, ...(from === undefined ? {} : { from }) }));
  const items = read.map((e): Item<T> => {
    const m = e.message as Partial<StoredMessage<T>> | null;
    return isEventRow(m)
      ? { sentAt: m!.sentAt ?? 0, event: eventFromStore(group.conversationId, e.message) }
      : { sentAt: m?.sentAt ?? 0, entry: fromStored(group.conversationId, e) };
  });
  return { digest: group.digest, position, entries: items, seqs: read.map((e) => e.seq), taken: 0 };
}
