// Messenger.history: a conversation's messages newest first, without the event entries that read
// diffusion appends to the same timeline, so that a page holds `limit` messages and paging by seq
// never shifts.
import type { Seq } from '../core/types.js';
import { checkOptionalPositiveInteger, checkOptionalSeq, checkOptionsObject, checkSignal, checkTimelineId } from '../core/validate.js';
import { fromStored } from './entries.js';
import type { MessengerEntry, MessengerHistoryOptions, StoredMessage } from './messenger-types.js';
import type { HistoryPage, StoreTimeline } from './store-timeline.js';
import { isEventRow } from './sync-events.js';

const DEFAULT_LIMIT = 50;
// Rows read per request while skipping event entries: a page of messages plus room for events.
const READ_AHEAD = 2;

/** What the history reader needs. */
export interface HistoryContext<T> {
  readonly store: StoreTimeline<StoredMessage<T>>;
  /** Per-user view: the seqs of `conversationId` in [low, high] that `userId` deleted for themselves. */
  readonly hiddenFor?: (userId: string, conversationId: string, low: Seq, high: Seq, signal: AbortSignal | undefined) => Promise<ReadonlySet<Seq>>;
}

/** See {@link Messenger.history}. */
export async function readHistory<T>(ctx: HistoryContext<T>, conversationId: string, options: MessengerHistoryOptions | undefined): Promise<HistoryPage<MessengerEntry<T>>> {
  checkTimelineId(conversationId, 'conversationId');
  const opts = checkOptionsObject(options) as MessengerHistoryOptions;
  const before = checkOptionalSeq(opts.before, 'options.before');
  const limit = checkOptionalPositiveInteger(opts.limit, 'options.limit') ?? DEFAULT_LIMIT;
  const signal = checkSignal(opts.signal);
  const userId = opts.userId === undefined ? undefined : checkTimelineId(opts.userId, 'options.userId');
  if (before === 0n) return { entries: [], next: undefined, hasMore: false };
  const timeline = ctx.store.store.timeline(conversationId);
  const entries: MessengerEntry<T>[] = [];
  let from = before === undefined ? undefined : before - 1n;
  // Bounded: each round reads at least one row further back, and stops at the timeline's start.
  for (;;) {
    const want = (limit - entries.length) * READ_AHEAD + 1;
    const rows: { seq: Seq; entry: MessengerEntry<T> | undefined }[] = [];
    let exhausted = true;
    let count = 0;
    for await (const row of timeline.scan({ direction: 'backward', limit: want, signal, ...(from === undefined ? {} : { from }) })) {
      count += 1;
      rows.push({ seq: row.seq, entry: isEventRow(row.message) ? undefined : fromStored(conversationId, row) });
    }
    if (count === want) exhausted = false;
    const hidden =
      userId !== undefined && ctx.hiddenFor !== undefined && rows.length > 0
        ? await ctx.hiddenFor(userId, conversationId, rows[rows.length - 1]!.seq, rows[0]!.seq, signal)
        : undefined;
    for (let i = 0; i < rows.length; i++) {
      const { seq, entry } = rows[i]!;
      if (entry === undefined || hidden?.has(seq) === true) continue;
      if (entries.length === limit) {
        // One more message exists beyond the page.
        return { entries, next: entries[entries.length - 1]!.seq, hasMore: true };
      }
      entries.push(entry);
    }
    if (exhausted || rows.length === 0) return { entries, next: undefined, hasMore: false };
    const last = rows[rows.length - 1]!.seq;
    if (last === 0n) return { entries, next: undefined, hasMore: false };
    from = last - 1n;
  }
}
