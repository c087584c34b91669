// Messenger.recover: finish the sends of Messengers that died mid-way, found through the
// journal's pending hints.
import createDebug from 'debug';
import { throwIfAborted } from '../core/validate.js';
import { readClock } from './internal.js';
import type { RecoverResult } from './messenger-types.js';
import { complete, owning, type SendContext } from './send-flow.js';
import { newVersion } from './send-journal.js';

const log = createDebug('tablestore-timeline:messenger');

/**
 * One recovery pass over every pending hint: a finished send's stale hint is removed; a claim
 * still within its lease is left alone; an expired claim is taken over (compare-and-set, so one
 * recoverer wins) and finished, writing only the inboxes that lack the message, or released when
 * the message was never stored. Safe to run in several processes at once.
 */
export async function recoverPass<T>(ctx: SendContext<T>, signal: AbortSignal | undefined): Promise<RecoverResult> {
  const journal = ctx.journal!;
  await ctx.ready();
  const result = { pending: 0, completed: 0, released: 0, skipped: 0, cleaned: 0, rowsWritten: 0 };
  for await (const hint of journal.pending(signal)) {
    throwIfAborted(signal, 'recover');
    result.pending += 1;
    const current = await journal.read(hint.conversationId, hint.messageId, signal);
    const now = readClock(ctx.now);
    if (current === undefined || current.state.state === 'done') {
      // The hint outlived its send (finished, or a claim that never landed). A hint younger than
      // a lease may belong to a claim being written right now: leave it.
      if (current !== undefined || hint.claimedAt + ctx.leaseMs <= now) {
        await journal.dropHint(hint);
        result.cleaned += 1;
      } else {
        result.skipped += 1;
      }
      continue;
    }
    if (current.state.leaseUntil > now) {
      result.skipped += 1;
      continue;
    }
    const taken = { ...current.state, owner: newVersion(), leaseUntil: now + ctx.leaseMs };
    const version = await journal.replace(taken, current.version, signal);
    if (version === undefined) {
      result.skipped += 1;
      continue;
    }
    const claim = { state: taken, version };
    // On failure the lease is given up at once, so that the next pass (or a re-send) can try again.
    const done = await owning(ctx, claim, () => complete(ctx, claim, undefined, undefined));
    if (done.outcome === 'released') result.released += 1;
    else if (done.outcome === 'completed') result.completed += 1;
    else result.skipped += 1;
    result.rowsWritten += done.rowsWritten;
  }
  log('recover: %o', result);
  return result;
}
