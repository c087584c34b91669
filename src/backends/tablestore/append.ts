/**
 * The append write loop: sends pending rows in chunks, pauses between attempts under the retry
 * strategy, settles ambiguous rows before anything is re-sent, and gives every row one result.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { AppendRow, AppendRowResult } from '../../core/backend.js';
import { ValidationError, type BackendError, type TimelineError } from '../../core/errors.js';
import { checkOrder, holdOrder } from './batch-order.js';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { exhausted, unreachableError } from './request.js';
import { pause } from './retry.js';
import { requestRowBytes } from './row-layout.js';
import { log, type OperationContext, type Runtime } from './runtime.js';
import { nextChunk, sendChunk } from './send.js';
import { failUncertain, settleAmbiguous } from './settle.js';
import { finish, type Slot, type WriteState } from './slots.js';
import { UncertainWrites } from './uncertain-writes.js';

/** Appends rows for one backend; see {@link TableStoreBackend.append}. */
export class Appender implements WriteState {
  readonly rt: Runtime;
  readonly uncertain = new UncertainWrites();
  readonly #writeIdPrefix = randomBytes(9).toString('base64url');
  #writeIdCounter = 0;

  constructor(rt: Runtime) {
    this.rt = rt;
    rt.onClose(() => this.uncertain.clear());
  }

  async append(ctx: OperationContext, rows: readonly AppendRow[]): Promise<AppendRowResult[]> {
    const { rt } = this;
    const slots = rows.map((row, index) => this.#slot(ctx, row, index));
    const ordered = rt.capabilities.orderedBatches;
    let failures = 0;
    let lastError: BackendError | undefined;
    let waitFirst = false;
    if (slots.some((s) => s.state === 'ambiguous')) {
      await settleAmbiguous(this, ctx, slots.filter((s) => s.state === 'ambiguous'));
    }
    for (;;) {
      if (ordered) holdOrder(ctx, slots);
      if (waitFirst) {
        waitFirst = false;
        const open = slots.filter((s) => s.state !== 'done');
        if (open.length === 0) break;
        if (!(await this.#pauseOrStop(ctx, slots, lastError ?? open.find((s) => s.lastError)?.lastError, failures))) break;
        if (ordered) holdOrder(ctx, slots);
      }
      const chunk = nextChunk(slots);
      if (chunk.length === 0) {
        if (slots.some((s) => s.state === 'ambiguous')) {
          waitFirst = true;
          continue;
        }
        break;
      }
      if (rt.stopped(ctx)) {
        this.#stopAll(ctx, slots, rt.interruption(ctx));
        break;
      }
      const failed = await sendChunk(this, ctx, chunk);
      if (ordered) checkOrder(rt, ctx, slots);
      if (failed !== undefined) {
        failures++;
        lastError = failed;
        waitFirst = true;
      }
    }
    return slots.map((s) => s.result!);
  }

  #slot(ctx: OperationContext, row: AppendRow, index: number): Slot {
    const writeId = `${this.#writeIdPrefix}.${(this.#writeIdCounter++).toString(36)}`;
    const slot: Slot = { index, row, writeId, bytes: requestRowBytes(this.rt.columns, this.rt.overhead, row), lookFor: [writeId], state: 'pending' };
    if (row.payload.byteLength > MAX_MESSAGE_BYTES) {
      finish(slot, {
        ok: false,
        error: new ValidationError(`rows[${index}].payload`, `row ${index} is ${row.payload.byteLength} bytes, over the TableStore backend's limit of ${MAX_MESSAGE_BYTES} bytes per message`, {
          code: 'MESSAGE_TOO_LARGE',
          table: ctx.table,
          timelineId: row.timelineId,
        }),
      });
      return slot;
    }
    // A message that ended in a WriteUncertainError earlier: find out first whether it landed.
    const earlier = row.messageId === undefined ? undefined : this.uncertain.get(ctx.table, row.timelineId, row.messageId);
    if (earlier !== undefined) {
      slot.lookFor.push(...earlier.writeIds);
      slot.sentAt = earlier.sentAt;
      slot.state = 'ambiguous';
    }
    return slot;
  }

  /**
   * Between attempts: pauses as the strategy says, then settles ambiguous rows. Returns false when
   * the call must stop (budget exhausted, aborted, closed, endpoint unreachable), every open row
   * then having its result.
   */
  async #pauseOrStop(ctx: OperationContext, slots: readonly Slot[], error: BackendError | undefined, failures: number): Promise<boolean> {
    const { rt } = this;
    const unreachable = error === undefined ? undefined : unreachableError(rt, ctx, error);
    const delay = error === undefined || unreachable !== undefined ? 0 : rt.retryStrategy({ attempt: failures, error, elapsedMs: Date.now() - ctx.startedAt, operation: 'append' });
    let stop: TimelineError | undefined = unreachable;
    if (stop === undefined && delay === null) {
      stop = exhausted(ctx, error!, failures);
    } else if (stop === undefined && delay !== null) {
      if (delay > 0) log('append to %s: retrying %d rows in %d ms (attempt %d, %s)', ctx.table, slots.filter((s) => s.state !== 'done').length, delay, failures + 1, error?.backendCode);
      if (!(await pause(delay, rt.stopSignal(ctx.signal)))) stop = rt.interruption(ctx);
    }
    const ambiguous = slots.filter((s) => s.state === 'ambiguous');
    if (ambiguous.length > 0) {
      if (stop === undefined || (stop.code !== 'ABORTED' && stop.code !== 'CLOSED')) await settleAmbiguous(this, ctx, ambiguous);
      else for (const slot of ambiguous) failUncertain(this, ctx, slot, stop);
    }
    if (stop === undefined) return true;
    for (const slot of slots) {
      if (slot.state !== 'pending') continue;
      // Each row reports its own last error; rows never sent share the one that stopped the call.
      const own = delay === null && slot.lastError !== undefined ? exhausted(ctx, slot.lastError, failures) : stop;
      finish(slot, { ok: false, error: own });
    }
    return false;
  }

  #stopAll(ctx: OperationContext, slots: readonly Slot[], stop: TimelineError): void {
    for (const slot of slots) {
      if (slot.state === 'pending') finish(slot, { ok: false, error: stop });
      else if (slot.state === 'ambiguous') failUncertain(this, ctx, slot, stop);
    }
  }
}
