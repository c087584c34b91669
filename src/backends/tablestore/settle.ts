/**
 * Settling ambiguous appends (timeout, dropped connection, 5xx): before a row is re-sent, its
 * unique write id is looked for at its timeline's tail. Found: the row was applied, with the seq
 * found. Proven absent: safe to re-send. Neither: a `WriteUncertainError`.
 *
 * @packageDocumentation
 */
import pLimit from 'p-limit';
import { TimelineError, WriteUncertainError } from '../../core/errors.js';
import { MAX_CLOCK_SKEW_MS } from './limits.js';
import { directTimelineCalls } from './direct/timeline-calls.js';
import { request, serviceFields } from './request.js';
import { log, type OperationContext } from './runtime.js';
import { writesPageOfSdk } from './sdk-answers.js';
import { rangeParams, type RangeQuery, type SeqBound } from './timeline-requests.js';
import { finish, succeed, type Slot, type WriteState } from './slots.js';

/** Timelines whose tail is checked at once after an ambiguous batch. */
const RESOLVE_CONCURRENCY = 8;

/**
 * Settles ambiguous rows: reads each timeline's tail for their write ids. Found rows succeed
 * with the seq found; rows proven absent become pending (safe to re-send); the rest fail with a
 * WriteUncertainError.
 */
export async function settleAmbiguous(w: WriteState, ctx: OperationContext, ambiguous: readonly Slot[]): Promise<void> {
  const byTimeline = new Map<string, Slot[]>();
  for (const slot of ambiguous) {
    const list = byTimeline.get(slot.row.timelineId);
    if (list === undefined) byTimeline.set(slot.row.timelineId, [slot]);
    else list.push(slot);
  }
  const limit = pLimit(RESOLVE_CONCURRENCY);
  await Promise.all(
    [...byTimeline].map(([timelineId, group]) =>
      limit(async () => {
        const since = Math.min(...group.map((s) => s.sentAt ?? ctx.startedAt)) - MAX_CLOCK_SKEW_MS;
        let outcome: { found: Map<string, bigint>; conclusive: boolean };
        try {
          outcome = await findWrites(w, ctx, timelineId, group.map((s) => s.lookFor), since);
        } catch (error) {
          for (const slot of group) failUncertain(w, ctx, slot, error);
          return;
        }
        for (const slot of group) {
          const seq = slot.lookFor.map((id) => outcome.found.get(id)).find((s) => s !== undefined);
          if (seq !== undefined) {
            log('append to %s: ambiguous write of timeline %s was applied (seq %s)', ctx.table, timelineId, seq);
            succeed(w, ctx.table, slot, seq);
          } else if (outcome.conclusive) {
            log('append to %s: ambiguous write of timeline %s was not applied; re-sending', ctx.table, timelineId);
            if (slot.row.messageId !== undefined) w.uncertain.forget(ctx.table, timelineId, slot.row.messageId);
            slot.state = 'pending';
          } else {
            failUncertain(w, ctx, slot, undefined);
          }
        }
      }),
    ),
  );
}

/**
 * Reads a timeline backward from its tail until one write id of every row (`idsPerRow`) is
 * found, the timeline's start is reached, rows older than `sinceMs` appear, or the window is used
 * up. `conclusive` is true when a missing id is proven absent.
 */
async function findWrites(
  w: WriteState,
  ctx: OperationContext,
  timelineId: string,
  idsPerRow: readonly (readonly string[])[],
  sinceMs: number,
): Promise<{ found: Map<string, bigint>; conclusive: boolean }> {
  const readCtx: OperationContext = { ...ctx, operation: 'append (checking an ambiguous write)', timelineId };
  try {
    return await scanForWrites(w, readCtx, timelineId, idsPerRow, sinceMs);
  } finally {
    // The append's own context learns that the server answered (see unreachableError).
    if (readCtx.reached === true) ctx.reached = true;
  }
}

async function scanForWrites(
  w: WriteState,
  readCtx: OperationContext,
  timelineId: string,
  idsPerRow: readonly (readonly string[])[],
  sinceMs: number,
): Promise<{ found: Map<string, bigint>; conclusive: boolean }> {
  const { rt } = w;
  const windowRows = rt.options.windowRows;
  const wanted = new Set(idsPerRow.flat());
  const found = new Map<string, bigint>();
  const allFound = (): boolean => idsPerRow.every((ids) => ids.some((id) => found.has(id)));
  const direct = directTimelineCalls(rt);
  let start: SeqBound = 'max';
  let scanned = 0;
  while (scanned < windowRows) {
    const query: RangeQuery = { timelineId, forward: false, start, end: 'min', limit: Math.min(1000, windowRows - scanned), columnsToGet: [rt.columns.writeId] };
    const page =
      direct !== undefined
        ? await request(rt, readCtx, () => direct.writesPage(readCtx.table, query))
        : writesPageOfSdk(await request(rt, readCtx, () => rt.client.getRange(rangeParams(rt.sdk, rt.columns, readCtx.table, query))), rt.columns, timelineId);
    scanned += page.scanned;
    let older = false;
    for (const parsed of page.rows) {
      if (parsed.writeId !== undefined && wanted.has(parsed.writeId)) found.set(parsed.writeId, parsed.row.seq);
      if (parsed.writtenAtMs !== undefined && parsed.writtenAtMs < sinceMs) older = true;
    }
    if (older || allFound()) return { found, conclusive: true };
    if (page.next === undefined) return { found, conclusive: true };
    start = page.next;
  }
  return { found, conclusive: false };
}

/**
 * Fails a row with a `WriteUncertainError` (`cause`: why checking failed, or undefined when the
 * row was not found within the window) and remembers its write ids for a re-send.
 */
export function failUncertain(w: WriteState, ctx: OperationContext, slot: Slot, cause: unknown): void {
  const last = slot.lastError;
  const reason =
    cause instanceof TimelineError
      ? `checking whether it was applied failed: ${cause.message}`
      : `it was not found among the newest ${w.rt.options.windowRows} rows of the timeline (raise \`ambiguityWindowRows\` to look further)`;
  const error = new WriteUncertainError(
    `append to table ${ctx.table}, timeline ${JSON.stringify(slot.row.timelineId)}: the write may or may not have been applied (${last?.backendCode ?? 'unknown'}: ${last?.message ?? 'no answer'}) and ${reason}.` +
      (slot.row.messageId === undefined ? '' : ' Re-sending it with the same messageId through this backend checks again before writing.'),
    {
      cause: cause ?? last,
      operation: 'append',
      table: ctx.table,
      timelineId: slot.row.timelineId,
      retryable: true,
      ...serviceFields(last),
    },
  );
  finish(slot, { ok: false, error });
  if (slot.row.messageId !== undefined) {
    w.uncertain.remember(ctx.table, slot.row.timelineId, slot.row.messageId, { writeIds: [...new Set(slot.lookFor)], sentAt: slot.sentAt ?? ctx.startedAt });
  }
}
