/**
 * The `orderedBatches` promise: rows of one timeline in one BatchWriteRow get increasing seqs in
 * request order. TableStore does not document it, so the backend keeps the promise only while
 * every answer confirms it, and never re-sends a row behind a later row of its timeline.
 *
 * @packageDocumentation
 */
import { BackendError } from '../../core/errors.js';
import { serviceFields } from './request.js';
import { log, type OperationContext, type Runtime } from './runtime.js';
import { finish, type Slot } from './slots.js';

/**
 * With ordered batches, a row may only be re-sent while no later row of its timeline (in this
 * call) has been written: otherwise it would land behind it. Such rows fail instead, retryably.
 */
export function holdOrder(ctx: OperationContext, slots: readonly Slot[]): void {
  const lastWritten = new Map<string, number>();
  for (const slot of slots) if (slot.state === 'done' && slot.result?.ok) lastWritten.set(slot.row.timelineId, slot.index);
  for (const slot of slots) {
    if (slot.state !== 'pending') continue;
    const later = lastWritten.get(slot.row.timelineId);
    if (later === undefined || later < slot.index) continue;
    const cause = slot.lastError;
    finish(slot, {
      ok: false,
      error: new BackendError(
        `append to table ${ctx.table}: row ${slot.index} was not written (${cause?.backendCode ?? 'error'}: ${cause?.message ?? ''}) and was not re-sent because row ${later} of the same timeline already was; re-sending it now would break input order`,
        { cause, operation: 'append', table: ctx.table, timelineId: slot.row.timelineId, retryable: true, ...serviceFields(cause) },
      ),
    });
  }
}

/**
 * With ordered batches declared, verifies the promise on every answer; never keeps declaring it
 * once the service has been seen to break it.
 */
export function checkOrder(rt: Runtime, ctx: OperationContext, slots: readonly Slot[]): void {
  const last = new Map<string, bigint>();
  for (const slot of slots) {
    if (slot.state !== 'done' || !slot.result?.ok) continue;
    const previous = last.get(slot.row.timelineId);
    if (previous !== undefined && slot.result.seq <= previous) {
      if (rt.capabilities.orderedBatches) {
        log('append to %s: the service numbered rows of timeline %s out of request order (%s after %s); orderedBatches is now false', ctx.table, slot.row.timelineId, slot.result.seq, previous);
        rt.dropOrderedBatches();
      }
      return;
    }
    last.set(slot.row.timelineId, slot.result.seq);
  }
}
