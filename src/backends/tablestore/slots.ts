/**
 * The per-row state of one append call, shared by the write loop, the request sender, the
 * settling of ambiguous writes and the batch-order checks.
 *
 * @packageDocumentation
 */
import type { AppendRow, AppendRowResult } from '../../core/backend.js';
import type { BackendError } from '../../core/errors.js';
import type { Runtime } from './runtime.js';
import type { UncertainWrites } from './uncertain-writes.js';

/** Per-row state of one append call. */
export interface Slot {
  readonly index: number;
  readonly row: AppendRow;
  readonly writeId: string;
  readonly bytes: number;
  /** Write ids that count as this row (its own, and those of earlier uncertain sends of the same message id). */
  readonly lookFor: string[];
  state: 'pending' | 'ambiguous' | 'done';
  result?: AppendRowResult;
  lastError?: BackendError;
  /** Local time of the first send that may have applied the row. */
  sentAt?: number;
}

/** What the write path of one backend shares. */
export interface WriteState {
  readonly rt: Runtime;
  readonly uncertain: UncertainWrites;
}

/** Settles a row. */
export function finish(slot: Slot, result: AppendRowResult): void {
  slot.state = 'done';
  slot.result = result;
}

/** Settles a row as written at `seq`; a message that was uncertain before is no longer. */
export function succeed(w: WriteState, table: string, slot: Slot, seq: bigint): void {
  finish(slot, { ok: true, seq });
  if (slot.row.messageId !== undefined && slot.lookFor.length > 1) w.uncertain.forget(table, slot.row.timelineId, slot.row.messageId);
}
