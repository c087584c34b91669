// How Messenger.send stores and delivers one message: with the send journal (claim, store, fan
// out, finish) or without it (read the conversation's tail, store, fan out).
import createDebug from 'debug';
import { ClosedError, TimelineError, ValidationError } from '../core/errors.js';
import type { Timeline } from '../core/timeline.js';
import type { TimelineEntry } from '../core/types.js';
import { MAX_SEQ, throwIfAborted } from '../core/validate.js';
import { fromStored } from './entries.js';
import { deliver, type FanOutResult } from './fan-out.js';
import { findInTail, readClock, toTimelineError } from './internal.js';
import type { DeliveredEvent, DiffusionMode, InboxMessage, MessengerEntry, SendResult, StoredMessage } from './messenger-types.js';
import { newVersion, type JournalState, type SendJournal } from './send-journal.js';
import type { StoreTimeline } from './store-timeline.js';
import type { SyncTimeline } from './sync-timeline.js';

const log = createDebug('tablestore-timeline:messenger');

/** How far back (ms) before its claim a stored entry is searched for, for clock steps between servers. */
const CLOCK_SLACK_MS = 60_000;
/** Most history entries searched for a journaled send's stored entry. */
const MAX_TAIL_SEARCH = 10_000;

/** What the send flow needs from the Messenger. */
export interface SendContext<T> {
  readonly store: StoreTimeline<StoredMessage<T>>;
  readonly inbox: SyncTimeline<InboxMessage<T>>;
  readonly journal: SendJournal | undefined;
  readonly now: () => number;
  readonly leaseMs: number;
  readonly claimWaitMs: number;
  readonly threshold: number;
  readonly dedupeWindow: number;
  readonly concurrency: number;
  readonly checkBeforeSend: boolean;
  readonly onDelivered: ((event: DeliveredEvent<T>) => void | Promise<void>) | undefined;
  /**
   * Moves the conversation-list rows of a write-diffused send's users (conversations on); run
   * beside the fan-out, before `onDelivered`. Never throws.
   */
  readonly listRows: ((entry: MessengerEntry<T>, users: readonly string[]) => Promise<void>) | undefined;
  /** Creates the journal table once (lazy init). */
  readonly ready: () => Promise<void>;
}

/** One validated send. */
export interface SendRequest<T> {
  readonly conversationId: string;
  readonly senderId: string;
  /** Distinct inboxes to reach (the sender's included when it is delivered to). */
  readonly targets: readonly string[];
  readonly message: T;
  readonly messageId: string;
  readonly signal: AbortSignal | undefined;
}

/** The outcome of finishing a taken-over send. */
export interface Completion<T> {
  /** `completed`: stored and fanned out; `released`: never stored, and given back. */
  readonly outcome: 'completed' | 'released' | 'lost';
  readonly result?: SendResult<T>;
  readonly rowsWritten: number;
}

/** The diffusion mode of a send to `targets`. */
export function modeFor(targets: readonly string[], threshold: number): DiffusionMode {
  return targets.length > threshold ? 'read' : 'write';
}

/**
 * Send with the journal: claim `(conversationId, messageId)`, store, fan out, mark done: 3 + the
 * fan-out's batch requests. A lost claim is answered from the journal (a finished send), waited
 * for (a live claim), or taken over (a claim whose lease expired, or a finished send with inboxes
 * still to reach).
 */
export async function sendJournaled<T>(ctx: SendContext<T>, req: SendRequest<T>): Promise<SendResult<T>> {
  const journal = ctx.journal!;
  // A closed store would fail the send after its claim: refuse before anything is written.
  for (const store of [ctx.store.store, ctx.inbox.store]) {
    if (store.closed) throw new ClosedError(`TimelineStore(${store.table})`, { operation: 'send', table: store.table });
  }
  await ctx.ready();
  const mode = modeFor(req.targets, ctx.threshold);
  checkEnvelope(ctx, req);
  const waitUntil = performance.now() + ctx.claimWaitMs;
  let pause = 10;
  // Claim only when the record is absent; while another caller holds it, poll with reads alone.
  let tryClaim = true;
  // Bounded: each round either returns, throws, or follows a change made by another caller.
  for (let round = 0; round < 1000; round++) {
    throwIfAborted(req.signal, 'send');
    if (tryClaim) {
      const claimedAt = readClock(ctx.now);
      const state: JournalState = {
        conversationId: req.conversationId,
        messageId: req.messageId,
        state: 'claimed',
        owner: newVersion(),
        leaseUntil: claimedAt + ctx.leaseMs,
        senderId: req.senderId,
        mode,
        targets: req.targets,
        claimedAt,
      };
      const version = await journal.claim(state, req.signal);
      if (version !== undefined) {
        const claim = { state, version };
        return (await owning(ctx, claim, () => storeAndDeliver(ctx, req, claim, undefined))).result!;
      }
    }
    const current = await journal.read(req.conversationId, req.messageId, req.signal);
    tryClaim = current === undefined; // released or expired in between: claim again
    if (current === undefined) continue;
    const now = readClock(ctx.now);
    const held = current.state;
    if (held.state === 'done') {
      const missing = undelivered(held, req.targets);
      if (missing.length === 0) return duplicateOf(ctx, held, req.signal);
    } else if (held.leaseUntil > now) {
      // Another caller is sending it right now: wait (bounded) for it to finish.
      log('send %s/%s: held by %s until %d (now %d); waiting', req.conversationId, req.messageId, held.owner, held.leaseUntil, now);
      if (performance.now() + pause > waitUntil) {
        throw new TimelineError(
          'SEND_IN_PROGRESS',
          `message ${JSON.stringify(req.messageId)} of conversation ${JSON.stringify(req.conversationId)} is being sent by another caller; retry later (its claim expires in ${held.leaseUntil - now} ms), or raise journal.claimWaitMs to wait longer`,
          { operation: 'send', timelineId: req.conversationId, retryable: true },
        );
      }
      await sleep(pause, req.signal);
      pause = Math.min(pause * 2, 200);
      continue;
    }
    // Take it over: a dead owner's claim, or a finished send with inboxes still to reach.
    const taken: JournalState = {
      ...held,
      state: 'claimed',
      owner: newVersion(),
      leaseUntil: now + ctx.leaseMs,
      targets: union(held.targets, held.mode === 'write' ? req.targets : []),
    };
    const takenVersion = await journal.replace(taken, current.version, req.signal);
    if (takenVersion === undefined) continue; // someone else changed it first: look again
    const claim = { state: taken, version: takenVersion };
    const done = await owning(ctx, claim, () => complete(ctx, claim, held.state === 'done' ? held : undefined, req));
    if (done.result !== undefined) return done.result;
  }
  throw new TimelineError('SEND_IN_PROGRESS', `message ${JSON.stringify(req.messageId)} kept changing hands; retry later`, { operation: 'send', retryable: true });
}

/**
 * Runs the work of a claim this caller holds. If it throws (a read or write that failed for good),
 * the lease is given up at once (best effort), so that the client's re-send, or recovery, takes the
 * send over now instead of waiting out the lease behind a claim nobody is working on.
 */
export async function owning<T, R>(ctx: SendContext<T>, claim: Claim, work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (error) {
    log('send %s/%s: giving up the lease after a failure: %O', claim.state.conversationId, claim.state.messageId, error);
    if (claim.state.state === 'claimed') await persist(() => ctx.journal!.replace({ ...claim.state, leaseUntil: 0 }, claim.version));
    throw error;
  }
}

/**
 * Finishes a send this caller has taken over: finds its stored entry (or stores it, when `req`
 * carries the message; otherwise releases the claim), writes only the inboxes that lack it, and
 * marks it done. Used by `send` and by `recover`.
 */
export async function complete<T>(ctx: SendContext<T>, claim: Claim, previous: JournalState | undefined, req: SendRequest<T> | undefined): Promise<Completion<T>> {
  const { state } = claim;
  const conversation = ctx.store.store.timeline(state.conversationId);
  const stored =
    previous?.seq !== undefined ? await conversation.get(previous.seq, { signal: req?.signal }) : await findStored(conversation, state, req?.signal);
  if (stored === undefined) {
    if (req !== undefined) return storeAndDeliver(ctx, req, claim, undefined);
    // The owner died before storing it, and only its client has the message: give the claim back
    // so that the client's re-send can claim it afresh.
    const released = await ctx.journal!.release(state.conversationId, state.messageId, claim.version);
    log('recover %s/%s: never stored; claim %s', state.conversationId, state.messageId, released ? 'released' : 'changed hands');
    return { outcome: released ? 'released' : 'lost', rowsWritten: 0 };
  }
  return storeAndDeliver(ctx, req, claim, { entry: stored, previous });
}

interface Claim {
  state: JournalState;
  version: string;
}

// Stores the message (unless `found` has it), fans it out, and marks the journal record done.
async function storeAndDeliver<T>(
  ctx: SendContext<T>,
  req: SendRequest<T> | undefined,
  claim: Claim,
  found: { entry: TimelineEntry<StoredMessage<T>>; previous: JournalState | undefined } | undefined,
): Promise<Completion<T>> {
  const { state } = claim;
  const journal = ctx.journal!;
  const signal = req?.signal;
  const lease = keepLease(ctx, claim);
  try {
    let stored = found?.entry;
    if (stored === undefined) {
      try {
        stored = await ctx.store.store
          .timeline(state.conversationId)
          .append({ senderId: state.senderId, sentAt: readClock(ctx.now), message: req!.message }, { messageId: state.messageId, signal });
      } catch (error) {
        // The caller (`owning`) gives up the lease once `finally` below has stopped renewing it, so
        // that the next caller takes over at once: it finds the entry if this write landed after
        // all, and stores it otherwise.
        throw renameMessageError(error, state.conversationId);
      }
    }
    const entry = fromStored(state.conversationId, stored);
    const previous = found?.previous;
    const toReach = previous === undefined ? state.targets : undelivered(previous, state.targets);
    let rowsWritten = 0;
    let fanOut: FanOutResult = { messageId: state.messageId, delivered: [], failed: [] };
    if (state.mode === 'write') {
      // The list rows go beside the fan-out (no extra round trip), for every user of the send even
      // when its inboxes were all reached before: a take-over may follow a crash that came
      // between the fan-out and the rows, and writing a row again changes nothing.
      const [written] = await Promise.all([
        toReach.length > 0 ? fanOutEntry(ctx, entry, toReach, found !== undefined, signal, (n) => (rowsWritten = n)) : fanOut,
        ctx.listRows?.(entry, union(state.targets, [state.senderId])),
      ]);
      fanOut = written;
    }
    if (previous?.fanOut !== undefined) {
      const reached = new Set(fanOut.delivered.map((d) => d.receiverId));
      fanOut = { messageId: state.messageId, delivered: [...previous.fanOut.delivered.filter((d) => !reached.has(d.receiverId)), ...fanOut.delivered], failed: fanOut.failed };
    }
    await lease.stop();
    // Stored and delivered; if even the journal's record of it fails, recovery will find the hint,
    // see the entry and inboxes, and finish it without writing anything twice.
    const finished = await persist(() => journal.replace({ ...claim.state, state: 'done', leaseUntil: 0, seq: entry.seq, fanOut }, claim.version));
    const duplicate = found !== undefined;
    const result: SendResult<T> = { entry, mode: state.mode, fanOut, duplicate };
    log('send %s/%s: %s%s diffusion, %d delivered, %d failed', state.conversationId, state.messageId, duplicate ? 'taken over, ' : '', state.mode, fanOut.delivered.length, fanOut.failed.length);
    if (ctx.onDelivered !== undefined && (rowsWritten > 0 || !duplicate)) {
      await notify(ctx, { entry, mode: state.mode, recipients: state.targets, fanOut, duplicate });
    }
    return { outcome: finished === undefined ? 'lost' : 'completed', result, rowsWritten };
  } finally {
    await lease.stop();
  }
}

/** Send without the journal: read the conversation's tail for the id, store, fan out. */
export async function sendPlain<T>(ctx: SendContext<T>, req: SendRequest<T>): Promise<SendResult<T>> {
  const conversation = ctx.store.store.timeline(req.conversationId);
  let stored = ctx.checkBeforeSend ? await findInTail(conversation, req.messageId, ctx.dedupeWindow, req.signal) : undefined;
  const duplicate = stored !== undefined;
  const mode = modeFor(req.targets, ctx.threshold);
  if (stored === undefined) {
    checkEnvelope(ctx, req);
    try {
      stored = await conversation.append({ senderId: req.senderId, sentAt: readClock(ctx.now), message: req.message }, { messageId: req.messageId, signal: req.signal });
    } catch (error) {
      throw renameMessageError(error, req.conversationId);
    }
  }
  const entry = fromStored(req.conversationId, stored);
  let fanOut: FanOutResult = { messageId: req.messageId, delivered: [], failed: [] };
  if (mode === 'write') [fanOut] = await Promise.all([fanOutEntry(ctx, entry, req.targets, duplicate, req.signal), ctx.listRows?.(entry, union(req.targets, [req.senderId]))]);
  log('send %s/%s: %s%s diffusion, %d delivered, %d failed', req.conversationId, req.messageId, duplicate ? 'duplicate, ' : '', mode, fanOut.delivered.length, fanOut.failed.length);
  if (ctx.onDelivered !== undefined) await notify(ctx, { entry, mode, recipients: req.targets, fanOut, duplicate });
  return { entry, mode, fanOut, duplicate };
}

async function fanOutEntry<T>(
  ctx: SendContext<T>,
  entry: MessengerEntry<T>,
  targets: readonly string[],
  skipExisting: boolean,
  signal: AbortSignal | undefined,
  onWritten?: (rows: number) => void,
): Promise<FanOutResult> {
  const envelope: InboxMessage<T> = { conversationId: entry.conversationId, seq: entry.seq, senderId: entry.senderId, sentAt: entry.sentAt, message: entry.message };
  try {
    return await deliver(ctx.inbox.store, targets, envelope, {
      messageId: entry.messageId,
      concurrency: ctx.concurrency,
      signal,
      skipExisting,
      dedupeWindow: ctx.dedupeWindow,
      matches: (e) => e.message.conversationId === entry.conversationId && e.message.seq === entry.seq,
      messageParameter: 'input.message',
      ...(onWritten === undefined ? {} : { onWritten }),
    });
  } catch (error) {
    // The message is stored; an inbox-side rejection (e.g. the envelope is over the inbox
    // backend's size limit) is reported per recipient rather than hiding that it was stored.
    const wrapped = toTimelineError(error, 'send');
    return { messageId: entry.messageId, delivered: [], failed: targets.map((receiverId) => ({ receiverId, error: wrapped })) };
  }
}

// A finished send answered from the journal: its entry (one read) and its recorded fan-out.
async function duplicateOf<T>(ctx: SendContext<T>, held: JournalState, signal: AbortSignal | undefined): Promise<SendResult<T>> {
  const stored = held.seq === undefined ? undefined : await ctx.store.store.timeline(held.conversationId).get(held.seq, { signal });
  if (stored === undefined) {
    throw new TimelineError(
      'BACKEND',
      `the send journal says message ${JSON.stringify(held.messageId)} was stored at seq ${String(held.seq)} of ${JSON.stringify(held.conversationId)}, but that entry is gone (deleted or expired history)`,
      { operation: 'send', timelineId: held.conversationId },
    );
  }
  const fanOut = held.fanOut ?? { messageId: held.messageId, delivered: [], failed: [] };
  return { entry: fromStored(held.conversationId, stored), mode: held.mode, fanOut: { messageId: held.messageId, delivered: [...fanOut.delivered], failed: [...fanOut.failed] }, duplicate: true };
}

// Searches the newest history entries for the send's message id, back to a little before its claim.
async function findStored<T>(conversation: Timeline<StoredMessage<T>>, state: JournalState, signal: AbortSignal | undefined): Promise<TimelineEntry<StoredMessage<T>> | undefined> {
  const since = state.claimedAt - CLOCK_SLACK_MS;
  for await (const entry of conversation.scan({ direction: 'backward', limit: MAX_TAIL_SEARCH, pageSize: 200, signal })) {
    if (entry.messageId === state.messageId) return entry;
    const sentAt = (entry.message as Partial<StoredMessage<T>> | null)?.sentAt;
    if (typeof sentAt === 'number' && sentAt < since) return undefined;
  }
  return undefined;
}

// Inboxes of `targets` (and of the journaled targets) that the finished send did not reach.
function undelivered(held: JournalState, targets: readonly string[]): string[] {
  if (held.mode === 'read') return [];
  const reached = new Set((held.fanOut?.delivered ?? []).map((d) => d.receiverId));
  return union(held.targets, targets).filter((id) => !reached.has(id));
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

// Renews the claim's lease while a long send runs, so that nobody takes it over mid-way. `stop`
// waits for a renewal in flight, so that the caller's next compare-and-set names the latest version.
function keepLease<T>(ctx: SendContext<T>, claim: Claim): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const renew = (): void => {
    timer = setTimeout(() => {
      if (stopped) return;
      const next: JournalState = { ...claim.state, leaseUntil: readClock(ctx.now) + ctx.leaseMs };
      inFlight = ctx.journal!.replace(next, claim.version).then(
        (version) => {
          if (version === undefined) return;
          claim.state = next;
          claim.version = version;
          if (!stopped) renew();
        },
        (error: unknown) => log('renewing the lease of %s/%s failed: %O', claim.state.conversationId, claim.state.messageId, error),
      );
    }, Math.max(1, Math.floor(ctx.leaseMs / 3)));
    timer.unref();
  };
  renew();
  return {
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
    },
  };
}

// A journal write that must not be lost to one transient failure (the backend's own retry budget
// already ran out): tried up to three times; a compare-and-set that finds the record changed ends
// it (undefined). Errors are logged, never thrown: the caller has already done the real work, or is
// already failing.
async function persist(write: () => Promise<string | undefined>): Promise<string | undefined> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await write();
    } catch (error) {
      log('journal write failed (attempt %d of 3): %O', attempt, error);
    }
  }
  return undefined;
}

async function notify<T>(ctx: SendContext<T>, event: DeliveredEvent<T>): Promise<void> {
  try {
    await ctx.onDelivered!(event);
  } catch (error) {
    log('onDelivered failed for %s/%s (ignored; the message is stored): %O', event.entry.conversationId, event.entry.messageId, error);
  }
}

// Encodes the inbox entry the fan-out would write (with the largest seq, so that the real one is
// no larger) and rejects it as `input.message` if the inbox store cannot take it: nothing is
// stored for a message its inboxes would reject.
function checkEnvelope<T>(ctx: SendContext<T>, req: SendRequest<T>): void {
  // The history entry first: with the journal, a message its store would reject must fail before
  // the claim is written.
  try {
    ctx.store.store.validateMessage({ senderId: req.senderId, sentAt: readClock(ctx.now), message: req.message }, 'input.message', req.conversationId);
  } catch (error) {
    throw renameMessageError(error, req.conversationId);
  }
  if (modeFor(req.targets, ctx.threshold) === 'read') return;
  try {
    ctx.inbox.store.validateMessage({ conversationId: req.conversationId, seq: MAX_SEQ, senderId: req.senderId, sentAt: readClock(ctx.now), message: req.message }, 'input.message', req.conversationId);
  } catch (error) {
    if (!(error instanceof ValidationError) || error.code !== 'MESSAGE_TOO_LARGE') throw error;
    throw new ValidationError(
      'input.message',
      `${error.message}, as the inbox entry of its recipients (the message with its conversation id, seq, sender and time); nothing was stored`,
      { code: 'MESSAGE_TOO_LARGE', cause: error, table: error.table, timelineId: req.conversationId },
    );
  }
}

function renameMessageError(error: unknown, conversationId: string): unknown {
  if (error instanceof ValidationError && error.parameter === 'message') {
    return new ValidationError('input.message', error.message.replace('`message`', '`input.message`'), {
      code: error.code as 'INVALID_ARGUMENT' | 'MESSAGE_TOO_LARGE' | 'CODEC',
      cause: error,
      table: error.table,
      timelineId: conversationId,
    });
  }
  return error;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      try {
        throwIfAborted(signal, 'send');
      } catch (error) {
        reject(error);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
