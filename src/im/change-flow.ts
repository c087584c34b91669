// Messenger.recall, edit and deleteForMe: check, lock the message's change record, rewrite the
// stored entry in place, deliver the change as a sync event, release. See docs/architecture.md
// ("Message lifecycle").
import { createHash } from 'node:crypto';
import createDebug from 'debug';
import { TimelineError, ValidationError } from '../core/errors.js';
import type { Seq, TimelineEntry } from '../core/types.js';
import { throwIfAborted } from '../core/validate.js';
import { ChangeRecords, newOwner, REMEMBERED_REQUESTS, type ChangeLock, type ChangeState } from './change-state.js';
import { fromStored } from './entries.js';
import type { FanOutResult } from './fan-out.js';
import { readClock } from './internal.js';
import type { CanModify, ChangeResult, DiffusionMode, InboxMessage, MessengerEntry, StoredMessage } from './messenger-types.js';
import { modeFor } from './send-flow.js';
import type { SendJournal } from './send-journal.js';
import type { StoreTimeline } from './store-timeline.js';
import { appendEvent, deliverEvent, isEventRow, type DeleteEvent, type EditEvent, type RecallEvent, type SyncEvent } from './sync-events.js';
import type { SyncTimeline } from './sync-timeline.js';

const log = createDebug('tablestore-timeline:lifecycle');

/** What the change flow needs from the Messenger. */
export interface ChangeContext<T> {
  readonly store: StoreTimeline<StoredMessage<T>>;
  readonly inbox: SyncTimeline<InboxMessage<T>>;
  readonly changes: ChangeRecords;
  readonly journal: SendJournal | undefined;
  readonly now: () => number;
  readonly threshold: number;
  readonly deliverToSender: boolean;
  readonly concurrency: number;
  readonly dedupeWindow: number;
  readonly leaseMs: number;
  readonly claimWaitMs: number;
  readonly canModify: CanModify<T>;
  readonly recallWindowMs: number;
  /** Creates the change table once. */
  readonly ready: () => Promise<void>;
}

/** One validated recall or edit. */
export interface ChangeRequest<T> {
  readonly kind: 'recall' | 'edit';
  readonly conversationId: string;
  readonly seq: Seq;
  readonly by: string;
  readonly requestId: string;
  readonly recipients: readonly string[] | undefined;
  readonly message?: T;
  readonly signal: AbortSignal | undefined;
}

/** The default permission rule: only the sender; a recall only within the window. */
export function defaultCanModify<T>(recallWindowMs: number): CanModify<T> {
  return ({ action, by, entry, withinRecallWindow }) => {
    if (by !== entry.senderId) return `only its sender (${JSON.stringify(entry.senderId)}) may ${action} it`;
    if (action === 'recall' && !withinRecallWindow) return `the recall window (${recallWindowMs} ms after it was sent) has passed`;
    return true;
  };
}

/** The id of the event of a change: the same request always gives the same id. */
export function eventIdOf(conversationId: string, seq: Seq, requestId: string): string {
  return `evt:${createHash('sha256').update(JSON.stringify([conversationId, seq.toString(), requestId])).digest('hex').slice(0, 40)}`;
}

interface Targets {
  readonly targets: readonly string[];
  readonly mode: DiffusionMode;
}

/** Recall or edit: see {@link Messenger.recall} and {@link Messenger.edit}. */
export async function applyChange<T>(ctx: ChangeContext<T>, req: ChangeRequest<T>): Promise<ChangeResult<T>> {
  await ctx.ready();
  const timeline = ctx.store.store.timeline(req.conversationId);
  const waitUntil = performance.now() + ctx.claimWaitMs;
  let pause = 10;
  // Bounded: each round returns, throws, waits (bounded by claimWaitMs) or follows a change made
  // by another caller.
  for (let round = 0; round < 1000; round++) {
    throwIfAborted(req.signal, req.kind);
    const current = await ctx.changes.read(req.conversationId, req.seq, req.signal);
    const row = await timeline.get(req.seq, { signal: req.signal });
    if (current.state.requests.includes(req.requestId)) return duplicateOf(ctx, req, row);
    const now = readClock(ctx.now);
    const held = current.state.lock;
    if (held !== undefined && held.leaseUntil > now) {
      if (performance.now() + pause > waitUntil) {
        throw new TimelineError(
          'CHANGE_IN_PROGRESS',
          `message ${req.seq} of conversation ${JSON.stringify(req.conversationId)} is being changed by another caller; retry later (its lock expires in ${held.leaseUntil - now} ms)`,
          { operation: req.kind, timelineId: req.conversationId, retryable: true },
        );
      }
      await sleep(pause, req.signal);
      pause = Math.min(pause * 2, 200);
      continue;
    }
    // This very request, repeated after it rewrote the entry but did not finish (its caller died,
    // or inboxes failed): it was checked then; only its delivery is left.
    const mine = held !== undefined && held.requestId === req.requestId && row !== undefined && (row.message.revision ?? 0) === current.state.revision + 1;
    // Otherwise checked before anything is written, so that refused or bad input writes nothing.
    const targets = mine ? { targets: held.targets, mode: held.mode } : await targetsOf(ctx, req, await checkChange(ctx, req, row, now));
    const lock: ChangeLock = { owner: newOwner(), leaseUntil: now + ctx.leaseMs, requestId: req.requestId, kind: req.kind, targets: targets.targets, mode: targets.mode };
    const version = await ctx.changes.replace(req.conversationId, req.seq, { ...current.state, lock }, current.version, req.signal);
    if (version === undefined) continue; // someone else changed the record first: look again
    let base: ChangeState = { revision: current.state.revision, requests: current.state.requests };
    let stored = row!;
    if (held !== undefined) {
      // A change whose caller died holding the lock: finish it if its entry was rewritten,
      // otherwise drop it (its caller's retry applies it afresh).
      const finished = await finishDead(ctx, req.conversationId, req.seq, held, base, stored, req.signal);
      base = finished.base;
      if (held.requestId === req.requestId && finished.result !== undefined) {
        // Still pending while some inbox lacks the event, so that a further repeat retries it.
        const failed = finished.result.fanOut.failed.length > 0;
        await release(ctx, req, failed ? { ...current.state, lock: { ...lock, leaseUntil: 0 } } : base, version);
        return finished.result;
      }
      stored = (await timeline.get(req.seq, { signal: req.signal })) ?? stored;
    }
    try {
      const result = await rewriteAndDeliver(ctx, req, stored, base, targets, now);
      if (result.fanOut.failed.length > 0) {
        // Some inboxes lack the event: leave the change pending (lock expired at once), so that
        // the same request repeated, or any later change, delivers it to the inboxes that lack it.
        await release(ctx, req, { ...base, lock: { ...lock, leaseUntil: 0 } }, version);
      } else {
        await release(ctx, req, { revision: base.revision + 1, requests: remember(base.requests, req.requestId) }, version);
      }
      return result;
    } catch (error) {
      // Nothing applied, or the entry rewritten without its event: either way the lock is given
      // back at once, so that a retry (or any change) finishes or redoes it without waiting out
      // the lease. A rewritten entry is detected by its revision.
      await ctx.changes.replace(req.conversationId, req.seq, { ...base, lock: { ...lock, leaseUntil: 0 } }, version).catch(() => undefined);
      throw error;
    }
  }
  throw new TimelineError('CHANGE_IN_PROGRESS', `message ${req.seq} kept changing hands; retry later`, { operation: req.kind, retryable: true });
}

/** Delete for one user: see {@link Messenger.deleteForMe}. */
export async function deleteForUser<T>(
  ctx: ChangeContext<T>,
  input: { userId: string; conversationId: string; seq: Seq; signal: AbortSignal | undefined },
): Promise<ChangeResult<T>> {
  await ctx.ready();
  const row = await ctx.store.store.timeline(input.conversationId).get(input.seq, { signal: input.signal });
  const entry = messageOf(row, input.conversationId, input.seq, 'deleteForMe');
  const duplicate = await ctx.changes.isHidden(input.userId, input.conversationId, input.seq, input.signal);
  const at = readClock(ctx.now);
  if (!duplicate) await ctx.changes.hide(input.userId, input.conversationId, input.seq, at, input.signal);
  const event: DeleteEvent = {
    type: 'delete',
    eventId: eventIdOf(input.conversationId, input.seq, `delete-for:${input.userId}`),
    conversationId: input.conversationId,
    by: input.userId,
    at,
    seq: input.seq,
  };
  // Always with the existence check: a repeated call repairs a lost event and never writes a second.
  const fanOut = await deliverEvent(ctx.inbox, [input.userId], event, { concurrency: 1, dedupeWindow: ctx.dedupeWindow, retry: true, signal: input.signal });
  log('deleteForMe %s/%s by %s%s', input.conversationId, input.seq, input.userId, duplicate ? ' (again)' : '');
  return { entry, ...(duplicate ? {} : { event }), mode: 'write', fanOut, duplicate };
}

// The entry as a message, or NOT_FOUND for no entry or an event entry.
function messageOf<T>(row: TimelineEntry<StoredMessage<T>> | undefined, conversationId: string, seq: Seq, operation: string): MessengerEntry<T> {
  if (row === undefined || isEventRow(row.message)) {
    throw new TimelineError(
      'NOT_FOUND',
      `conversation ${JSON.stringify(conversationId)} has no message at seq ${seq}; pass the seq of a message returned by send, sync or history. Nothing was written`,
      { operation, timelineId: conversationId },
    );
  }
  return fromStored(conversationId, row);
}

async function checkChange<T>(ctx: ChangeContext<T>, req: ChangeRequest<T>, row: TimelineEntry<StoredMessage<T>> | undefined, now: number): Promise<MessengerEntry<T>> {
  const entry = messageOf(row, req.conversationId, req.seq, req.kind);
  if (entry.recalled !== undefined) {
    throw new ValidationError(
      'input.seq',
      `message ${req.seq} of conversation ${JSON.stringify(req.conversationId)} was recalled by ${JSON.stringify(entry.recalled.by)}; a recalled message cannot be ${req.kind === 'recall' ? 'recalled again' : 'edited'}. Nothing was written`,
    );
  }
  if (req.kind === 'edit') ctx.store.store.validateMessage(editedStored(row!.message, req, now, 1), 'input.message', req.conversationId);
  const verdict: unknown = await ctx.canModify({ action: req.kind, by: req.by, entry, now, withinRecallWindow: now - entry.sentAt <= ctx.recallWindowMs });
  if (verdict !== true) {
    const reason = typeof verdict === 'string' && verdict.length > 0 ? verdict : 'options.canModify refused it';
    throw new TimelineError(
      'FORBIDDEN',
      `${JSON.stringify(req.by)} may not ${req.kind} message ${req.seq} of conversation ${JSON.stringify(req.conversationId)}: ${reason}. Nothing was written`,
      { operation: req.kind, timelineId: req.conversationId },
    );
  }
  return entry;
}

// Whose inboxes learn of the change, and how.
async function targetsOf<T>(ctx: ChangeContext<T>, req: ChangeRequest<T>, entry: MessengerEntry<T>): Promise<Targets> {
  const extra = ctx.deliverToSender ? [entry.senderId, req.by] : [];
  if (req.recipients !== undefined) {
    const targets = [...new Set([...req.recipients, ...extra])];
    return { targets, mode: modeFor(targets, ctx.threshold) };
  }
  const held = ctx.journal === undefined || entry.messageId === undefined ? undefined : await ctx.journal.read(req.conversationId, entry.messageId, req.signal);
  if (held === undefined) {
    throw new ValidationError(
      'input.recipients',
      `Expected \`input.recipients\`: the send journal holds no record of message ${req.seq} of conversation ${JSON.stringify(req.conversationId)} (the journal is off, or the send is older than its TTL); pass the recipients that were given to send`,
    );
  }
  const targets = held.state.mode === 'write' ? [...new Set([...held.state.targets, ...extra])] : [...held.state.targets];
  return { targets, mode: held.state.mode };
}

function editedStored<T>(stored: StoredMessage<T>, req: ChangeRequest<T>, at: number, revision: number): StoredMessage<T> {
  return {
    senderId: stored.senderId,
    sentAt: stored.sentAt,
    message: req.message as T,
    edited: { by: req.by, at, count: (stored.edited?.count ?? 0) + 1 },
    revision,
  };
}

async function rewriteAndDeliver<T>(
  ctx: ChangeContext<T>,
  req: ChangeRequest<T>,
  row: TimelineEntry<StoredMessage<T>>,
  base: ChangeState,
  targets: Targets,
  at: number,
): Promise<ChangeResult<T>> {
  const revision = base.revision + 1;
  const stored = row.message;
  if (stored.recalled !== undefined) {
    // Recalled by the change this caller just finished for a dead one.
    throw new ValidationError('input.seq', `message ${req.seq} of conversation ${JSON.stringify(req.conversationId)} was recalled meanwhile; nothing was written`);
  }
  const next: StoredMessage<T> =
    req.kind === 'recall'
      ? { senderId: stored.senderId, sentAt: stored.sentAt, message: null as T, recalled: { by: req.by, at }, revision }
      : editedStored(stored, req, at, revision);
  await ctx.store.store.timeline(req.conversationId).update(req.seq, next, { signal: req.signal });
  const entry = fromStored(req.conversationId, { ...row, message: next });
  const event = eventOf(entry, req.requestId, req.by, at);
  const fanOut = await deliver(ctx, event, targets, false, req.signal);
  log('%s %s/%s by %s: revision %d, %s diffusion, %d delivered, %d failed', req.kind, req.conversationId, req.seq, req.by, revision, targets.mode, fanOut.delivered.length, fanOut.failed.length);
  return { entry, event, mode: targets.mode, fanOut, duplicate: false };
}

// The event of the change that produced `entry` (its state after the change).
function eventOf<T>(entry: MessengerEntry<T>, requestId: string, by: string, at: number): RecallEvent | EditEvent<T> {
  const base = { eventId: eventIdOf(entry.conversationId, entry.seq, requestId), conversationId: entry.conversationId, by, at, seq: entry.seq, revision: entry.revision! };
  if (entry.recalled !== undefined) return { ...base, type: 'recall' };
  return { ...base, type: 'edit', message: entry.message, editedAt: entry.editedAt!, editCount: entry.editCount! };
}

async function deliver<T>(ctx: ChangeContext<T>, event: SyncEvent<T>, targets: Targets, retry: boolean, signal: AbortSignal | undefined): Promise<FanOutResult> {
  const options = { concurrency: ctx.concurrency, dedupeWindow: ctx.dedupeWindow, retry, signal };
  if (targets.mode === 'write') return deliverEvent(ctx.inbox, targets.targets, event, options);
  await appendEvent(ctx.store, event, options);
  return { messageId: event.eventId, delivered: [], failed: [] };
}

// Finishes the change of a caller that died holding the lock, when its entry was rewritten (the
// entry's revision is one above the record's): its event is delivered again (inboxes that hold it
// are skipped) and it counts as applied. Otherwise it is dropped.
async function finishDead<T>(
  ctx: ChangeContext<T>,
  conversationId: string,
  seq: Seq,
  dead: ChangeLock,
  base: ChangeState,
  row: TimelineEntry<StoredMessage<T>>,
  signal: AbortSignal | undefined,
): Promise<{ base: ChangeState; result?: ChangeResult<T> }> {
  if ((row.message.revision ?? 0) !== base.revision + 1) return { base };
  const entry = fromStored(conversationId, row);
  const event = eventOf(entry, dead.requestId, entry.recalled?.by ?? row.message.edited?.by ?? '', entry.recalled?.at ?? entry.editedAt ?? 0);
  const fanOut = await deliver(ctx, event, { targets: dead.targets, mode: dead.mode }, true, signal);
  log('%s %s/%s: finished the change of a caller that died (revision %d)', dead.kind, conversationId, seq, base.revision + 1);
  return { base: { revision: base.revision + 1, requests: remember(base.requests, dead.requestId) }, result: { entry, event, mode: dead.mode, fanOut, duplicate: false } };
}

async function release<T>(ctx: ChangeContext<T>, req: ChangeRequest<T>, state: ChangeState, version: string): Promise<void> {
  const released = await ctx.changes.replace(req.conversationId, req.seq, state, version).catch((error: unknown) => {
    log('%s %s/%s: releasing the lock failed: %O', req.kind, req.conversationId, req.seq, error);
    return undefined;
  });
  // Lost only when this caller outlived its lease and another took over: that caller saw the
  // rewritten entry and finished this change, so nothing is lost.
  if (released === undefined) log('%s %s/%s: the lock changed hands before release', req.kind, req.conversationId, req.seq);
}

async function duplicateOf<T>(ctx: ChangeContext<T>, req: ChangeRequest<T>, row: TimelineEntry<StoredMessage<T>> | undefined): Promise<ChangeResult<T>> {
  const entry = messageOf(row, req.conversationId, req.seq, req.kind);
  let mode: DiffusionMode = 'write';
  if (req.recipients !== undefined) mode = modeFor(req.recipients, ctx.threshold);
  else if (ctx.journal !== undefined && entry.messageId !== undefined) mode = (await ctx.journal.read(req.conversationId, entry.messageId, req.signal))?.state.mode ?? 'write';
  return { entry, mode, fanOut: { messageId: eventIdOf(req.conversationId, req.seq, req.requestId), delivered: [], failed: [] }, duplicate: true };
}

function remember(requests: readonly string[], requestId: string): string[] {
  return [...requests, requestId].slice(-REMEMBERED_REQUESTS);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
