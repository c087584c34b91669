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
import { attributeColumns, primaryKey, seqOfPrimaryKey } from './row-layout.js';
import { log, type OperationContext } from './runtime.js';
import type { TableStoreClientLike } from './sdk-types.js';
import { finish, succeed, type Slot, type WriteState } from './slots.js';

const LIMITS = { maxBatchRows: MAX_BATCH_ROWS, maxBatchBytes: MAX_BATCH_BYTES };

/** The next request: pending rows in input order, within the row and byte limits. */
export function nextChunk(slots: readonly Slot[]): Slot[] {
  const pending = slots.filter((s) => s.state === 'pending');
  const bounds = batchBounds(pending.length, (i) => pending[i]!.bytes, LIMITS);
  if (bounds.length > 2) log('append: %d pending rows exceed one request; splitting', pending.length);
  return pending.slice(0, bounds[1] ?? 0);
}

/** Sends one request; updates the slots. Returns the error that makes a retry pause necessary, if any. */
export async function sendChunk(w: WriteState, ctx: OperationContext, chunk: readonly Slot[]): Promise<BackendError | undefined> {
  const { rt } = w;
  const sdk = rt.sdk;
  const sentAt = Date.now();
  const condition = new sdk.Condition(sdk.RowExistenceExpectation.IGNORE, null);
  const returnContent = { returnType: sdk.ReturnType.Primarykey };
  const rowRequest = (slot: Slot): Record<string, unknown> => ({
    condition,
    primaryKey: primaryKey(rt.columns, slot.row.timelineId, sdk.PK_AUTO_INCR),
    attributeColumns: attributeColumns(rt.columns, slot.row, slot.writeId),
    returnContent,
  });
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
      const response = await callSdk(ctx, () => rt.client.putRow({ tableName: ctx.table, ...rowRequest(slot) }));
      const seq = seqOfPrimaryKey(response.row?.primaryKey, rt.columns);
      if (seq === undefined) fail(slot, noSeq(response.RequestId), undefined);
      else succeed(w, ctx.table, slot, seq);
    } catch (error) {
      const { decoded, cause } = failureOf(error);
      fail(slot, decoded, cause);
    }
    return retryError;
  }
  log('BatchWriteRow %s: %d rows', ctx.table, chunk.length);
  let results: Awaited<ReturnType<TableStoreClientLike['batchWriteRow']>>['tables'];
  let requestId: string | undefined;
  try {
    const response = await callSdk(ctx, () =>
      rt.client.batchWriteRow({ tables: [{ tableName: ctx.table, rows: chunk.map((slot) => ({ type: 'PUT', ...rowRequest(slot) })) }] }),
    );
    results = response.tables ?? [];
    requestId = response.RequestId;
  } catch (error) {
    const { decoded, cause } = failureOf(error);
    // The request failed as a whole: every row shares its fate.
    for (const slot of chunk) fail(slot, decoded, cause);
    return retryError;
  }
  chunk.forEach((slot, i) => {
    const result = results?.[i];
    if (result === undefined) {
      fail(slot, { ...noSeq(requestId), message: `BatchWriteRow answered ${results?.length ?? 0} results for ${chunk.length} rows` }, undefined);
    } else if (result.isOk) {
      const seq = seqOfPrimaryKey(result.primaryKey, rt.columns);
      if (seq === undefined) fail(slot, noSeq(requestId), undefined);
      else succeed(w, ctx.table, slot, seq);
    } else {
      const code = result.errorCode ?? 'UnknownError';
      const message = result.errorMessage ?? '';
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
