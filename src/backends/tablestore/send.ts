/**
 * One append request: the next chunk of pending rows within the request limits, sent as a PutRow
 * (one row) or a BatchWriteRow (several), and each row's outcome recorded on its slot.
 *
 * @packageDocumentation
 */
import type { BackendError } from '../../core/errors.js';
import { classifyCode, type DecodedError } from './errors.js';
import { batchBounds } from '../../core/batches.js';
import { MAX_BATCH_BYTES, MAX_BATCH_ROWS } from './limits.js';
import { backendError, callSdk, failureOf } from './request.js';
import type { RowOutcome } from './answers.js';
import { directTimelineCalls } from './direct/timeline-calls.js';
import { seqOfPrimaryKey } from './row-layout.js';
import { log, type OperationContext } from './runtime.js';
import { batchOutcomeOfSdk } from './sdk-answers.js';
import { appendParams } from './timeline-requests.js';
import { finish, succeed, type Slot, type WriteState } from './slots.js';

const LIMITS = { maxBatchRows: MAX_BATCH_ROWS, maxBatchBytes: MAX_BATCH_BYTES };

/** The next request: pending rows in input order, within the row and byte limits. */
export function nextChunk(slots: readonly Slot[]): Slot[] {
  const pending = slots.filter((s) => s.state === 'pending');
  const bounds = batchBounds(pending.length, (i) => pending[i]!.bytes, LIMITS);
  if (bounds.length > 2) log('append: %d pending rows exceed one request; splitting', pending.length);
  return pending.slice(0, bounds[1] ?? 0);
}

/**
 * Sends one request; updates the slots. Returns the error that makes a retry pause necessary, if
 * any. On the wire transport the request is encoded from the slots and its answer decoded to
 * per-row outcomes directly (direct/); otherwise SDK params are sent and the SDK's results
 * converted (sdk-answers.ts). Either way every row's outcome is handled below, alike.
 */
export async function sendChunk(w: WriteState, ctx: OperationContext, chunk: readonly Slot[]): Promise<BackendError | undefined> {
  const { rt } = w;
  const direct = directTimelineCalls(rt);
  const sentAt = Date.now();
  for (const slot of chunk) slot.sentAt ??= sentAt;
  let retryError: BackendError | undefined;
  const fail = (slot: Slot, decoded: DecodedError, cause: unknown): void => {
    const error = backendError(ctx, decoded, cause, slot.row.timelineId);
    if (decoded.kind === 'fatal') {
      finish(slot, { ok: false, error });
      return;
    }
    slot.lastError = error;
    retryError = error;
    if (decoded.kind === 'ambiguous') slot.state = 'ambiguous';
  };
  if (chunk.length === 1) {
    const slot = chunk[0]!;
    log('PutRow %s (timeline %s)', ctx.table, slot.row.timelineId);
    try {
      let seq: bigint | undefined;
      let requestId: string | undefined;
      if (direct !== undefined) {
        const answer = await callSdk(ctx, () => direct.append(ctx.table, chunk));
        const outcome = answer.outcomes[0];
        seq = outcome?.ok === true ? outcome.seq : undefined;
        requestId = answer.requestId;
      } else {
        const response = await callSdk(ctx, () => rt.client.putRow(appendParams(rt.sdk, rt.columns, ctx.table, chunk)));
        seq = seqOfPrimaryKey(response.row?.primaryKey, rt.columns);
        requestId = response.RequestId;
      }
      if (seq === undefined) fail(slot, noSeq(requestId), undefined);
      else succeed(w, ctx.table, slot, seq);
    } catch (error) {
      const { decoded, cause } = failureOf(error);
      fail(slot, decoded, cause);
    }
    return retryError;
  }
  log('BatchWriteRow %s: %d rows', ctx.table, chunk.length);
  let outcomeAt: (i: number) => RowOutcome | undefined;
  let answered: number;
  let requestId: string | undefined;
  try {
    if (direct !== undefined) {
      const answer = await callSdk(ctx, () => direct.append(ctx.table, chunk));
      const outcomes = answer.outcomes;
      outcomeAt = (i) => outcomes[i];
      answered = outcomes.length;
      requestId = answer.requestId;
    } else {
      const response = await callSdk(ctx, () => rt.client.batchWriteRow(appendParams(rt.sdk, rt.columns, ctx.table, chunk)));
      const results = response.tables ?? [];
      // Converted row by row, as each outcome is handled.
      outcomeAt = (i) => (results[i] === undefined ? undefined : batchOutcomeOfSdk(results[i]!, rt.columns));
      answered = results.length;
      requestId = response.RequestId;
    }
  } catch (error) {
    const { decoded, cause } = failureOf(error);
    // The request failed as a whole: every row shares its fate.
    for (const slot of chunk) fail(slot, decoded, cause);
    return retryError;
  }
  chunk.forEach((slot, i) => {
    const outcome = outcomeAt(i);
    if (outcome === undefined) {
      fail(slot, { ...noSeq(requestId), message: `BatchWriteRow answered ${answered} results for ${chunk.length} rows` }, undefined);
    } else if (outcome.ok) {
      if (outcome.seq === undefined) fail(slot, noSeq(requestId), undefined);
      else succeed(w, ctx.table, slot, outcome.seq);
    } else {
      const { code, message } = outcome;
      fail(slot, { code, message, status: undefined, requestId, kind: classifyCode(code, message), notSent: false }, undefined);
    }
  });
  const failedRows = chunk.filter((s) => s.state !== 'done' || !s.result?.ok).length;
  if (failedRows > 0) log('BatchWriteRow %s: %d of %d rows failed (%s)', ctx.table, failedRows, chunk.length, retryError?.backendCode ?? 'not retryable');
  return retryError;
}

// The service applied the row but its key did not come back: settle it like an ambiguous write.
function noSeq(requestId: string | undefined): DecodedError {
  return { code: 'MissingPrimaryKey', message: 'the answer carried no primary key for the row', status: undefined, requestId, kind: 'ambiguous', notSent: false };
}
