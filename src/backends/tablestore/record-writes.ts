/**
 * Writes of keyed records: one PutRow or DeleteRow for a single write, BatchWriteRow for several,
 * each write's expectation sent as a row-existence condition (and a column condition on the
 * version for compare-and-set). Writes that failed with a retryable error are re-sent under the
 * retry strategy; a failed condition is a conflict; an ambiguous outcome is a
 * `WriteUncertainError` result, which the caller settles by reading the version back.
 *
 * @packageDocumentation
 */
import { BackendError, WriteUncertainError, type TimelineError } from '../../core/errors.js';
import type { RecordExpectation, RecordWrite, RecordWriteResult } from '../../core/records.js';
import { classifyCode, type DecodedError } from './errors.js';
import { batchBounds } from '../../core/batches.js';
import { MAX_BATCH_BYTES, MAX_BATCH_ROWS } from './limits.js';
import { recordAttributes, recordPrimaryKey, type ResolvedRecordColumns } from './record-layout.js';
import { backendError, callSdk, exhausted, failureOf, serviceFields, unreachableError } from './request.js';
import { pause } from './retry.js';
import { log, type OperationContext, type Runtime } from './runtime.js';
import type { SdkCondition, TableStoreSdk } from './sdk-types.js';

/** The code of a failed row-existence or column condition. */
const CONDITION_FAILED = 'OTSConditionCheckFail';
/** Bytes a record costs in a request beyond its ids, value and version: PlainBuffer and protobuf framing, column names. */
const RECORD_OVERHEAD_BYTES = 256;

interface WriteSlot {
  readonly write: RecordWrite;
  readonly bytes: number;
  state: 'pending' | 'done';
  result?: RecordWriteResult;
  lastError?: BackendError;
}

/**
 * Applies checked writes; resolves with one result per write, in input order.
 * @throws {BackendError} when the first request fails as a whole with an error that is not retryable (e.g. a missing table): nothing was applied.
 */
export async function writeRecordRows(rt: Runtime, ctx: OperationContext, writes: readonly RecordWrite[]): Promise<RecordWriteResult[]> {
  const columns = rt.options.recordColumns;
  const slots: WriteSlot[] = writes.map((write) => ({ write, bytes: recordBytes(write), state: 'pending' }));
  for (let attempt = 1; ; attempt++) {
    let retryError: BackendError | undefined;
    for (const chunk of chunks(slots.filter((s) => s.state === 'pending'))) {
      if (rt.stopped(ctx)) break;
      const outcome = await sendRecords(rt, ctx, columns, chunk);
      // A request rejected as a whole, before anything was applied: the call fails as a whole.
      if (outcome.wholeFatal !== undefined && attempt === 1 && slots.every((s) => s.state === 'pending' || chunk.includes(s))) throw outcome.wholeFatal;
      retryError = outcome.retryError ?? retryError;
    }
    const pending = slots.filter((s) => s.state === 'pending');
    if (pending.length === 0) break;
    const stop = await pauseBeforeRetry(rt, ctx, retryError, attempt);
    if (stop !== undefined) {
      for (const slot of pending) finish(slot, { ok: false, conflict: false, error: typeof stop === 'function' ? stop(slot) : stop });
      break;
    }
  }
  return slots.map((s) => s.result!);
}

/** Pauses as the strategy says; returns the error to end the pending writes with when the call must stop. */
async function pauseBeforeRetry(
  rt: Runtime,
  ctx: OperationContext,
  error: BackendError | undefined,
  attempt: number,
): Promise<TimelineError | ((slot: WriteSlot) => TimelineError) | undefined> {
  if (error === undefined || rt.stopped(ctx)) return rt.interruption(ctx);
  const unreachable = unreachableError(rt, ctx, error);
  if (unreachable !== undefined) return unreachable;
  const delay = rt.retryStrategy({ attempt, error, elapsedMs: Date.now() - ctx.startedAt, operation: ctx.operation });
  if (delay === null) return (slot) => exhausted(ctx, slot.lastError ?? error, attempt);
  log('%s %s: %s, retrying in %d ms', ctx.operation, ctx.table, error.backendCode, delay);
  return (await pause(delay, rt.stopSignal(ctx.signal))) ? undefined : rt.interruption(ctx);
}

/** Splits pending writes into requests under the service's 4 MB request limit. */
function chunks(pending: readonly WriteSlot[]): WriteSlot[][] {
  const bounds = batchBounds(pending.length, (i) => pending[i]!.bytes, { maxBatchRows: MAX_BATCH_ROWS, maxBatchBytes: MAX_BATCH_BYTES });
  return bounds.slice(1).map((end, c) => pending.slice(bounds[c], end));
}

function recordBytes(write: RecordWrite): number {
  const ids = Buffer.byteLength(write.partition) + Buffer.byteLength(write.key);
  const expect = typeof write.expect === 'object' ? Buffer.byteLength('version' in write.expect ? write.expect.version : write.expect.versionBelow) : 0;
  return RECORD_OVERHEAD_BYTES + ids + expect + (write.type === 'put' ? write.value.byteLength + Buffer.byteLength(write.version) : 0);
}

/** The SDK condition of an expectation. */
function condition(sdk: TableStoreSdk, columns: ResolvedRecordColumns, expect: RecordExpectation | undefined): SdkCondition {
  const { IGNORE, EXPECT_EXIST, EXPECT_NOT_EXIST } = sdk.RowExistenceExpectation;
  if (expect === undefined) return new sdk.Condition(IGNORE, null);
  if (expect === 'absent') return new sdk.Condition(EXPECT_NOT_EXIST, null);
  if (expect === 'present') return new sdk.Condition(EXPECT_EXIST, null);
  if ('versionBelow' in expect) {
    // No row passes (passIfMissing true: a missing version column means no record); a row passes
    // only when its version sorts before the given one (the service compares STRINGs as bytes).
    return new sdk.Condition(IGNORE, new sdk.SingleColumnCondition(columns.version, expect.versionBelow, sdk.ComparatorType.LESS_THAN, true, true));
  }
  // A missing version column must fail the check, never pass it (passIfMissing false).
  return new sdk.Condition(EXPECT_EXIST, new sdk.SingleColumnCondition(columns.version, expect.version, sdk.ComparatorType.EQUAL, false, true));
}

function rowRequest(sdk: TableStoreSdk, columns: ResolvedRecordColumns, write: RecordWrite): Record<string, unknown> {
  const base = { condition: condition(sdk, columns, write.expect), primaryKey: recordPrimaryKey(columns, write.partition, write.key) };
  return write.type === 'put' ? { ...base, attributeColumns: recordAttributes(columns, write.value, write.version) } : base;
}

/** Sends one request; records each write's outcome on its slot. */
async function sendRecords(
  rt: Runtime,
  ctx: OperationContext,
  columns: ResolvedRecordColumns,
  chunk: readonly WriteSlot[],
): Promise<{ retryError?: BackendError; wholeFatal?: BackendError }> {
  const sdk = rt.sdk;
  let retryError: BackendError | undefined;
  const settle = (slot: WriteSlot, decoded: DecodedError, cause: unknown): BackendError | undefined => {
    if (decoded.code === CONDITION_FAILED) {
      finish(slot, { ok: false, conflict: true });
      return undefined;
    }
    const error = backendError(ctx, decoded, cause, undefined);
    if (decoded.kind === 'retryable') {
      slot.lastError = error;
      retryError = error;
    } else if (decoded.kind === 'ambiguous') {
      finish(slot, { ok: false, conflict: false, error: uncertain(ctx, slot.write, error) });
    } else {
      finish(slot, { ok: false, conflict: false, error });
    }
    return error;
  };
  if (chunk.length === 1) {
    const slot = chunk[0]!;
    const params = { tableName: ctx.table, ...rowRequest(sdk, columns, slot.write) };
    try {
      await callSdk(ctx, () => (slot.write.type === 'put' ? rt.client.putRow(params) : rt.client.deleteRow(params)));
      finish(slot, { ok: true });
    } catch (error) {
      const { decoded, cause } = failureOf(error);
      const failed = settle(slot, decoded, cause);
      if (decoded.kind === 'fatal' && decoded.code !== CONDITION_FAILED) return { wholeFatal: failed! };
    }
    return retryError === undefined ? {} : { retryError };
  }
  log('BatchWriteRow %s: %d records', ctx.table, chunk.length);
  let results: Awaited<ReturnType<Runtime['client']['batchWriteRow']>>['tables'];
  let requestId: string | undefined;
  try {
    const response = await callSdk(ctx, () =>
      rt.client.batchWriteRow({
        tables: [{ tableName: ctx.table, rows: chunk.map((slot) => ({ type: slot.write.type === 'put' ? 'PUT' : 'DELETE', ...rowRequest(sdk, columns, slot.write) })) }],
      }),
    );
    results = response.tables ?? [];
    requestId = response.RequestId;
  } catch (error) {
    const { decoded, cause } = failureOf(error);
    // The request failed as a whole: every write shares its fate (a whole-request condition failure does not exist).
    let failed: BackendError | undefined;
    for (const slot of chunk) failed = settle(slot, decoded, cause) ?? failed;
    if (decoded.kind === 'fatal' && failed !== undefined) return { wholeFatal: failed };
    return retryError === undefined ? {} : { retryError };
  }
  chunk.forEach((slot, i) => {
    const result = results?.[i];
    if (result === undefined) {
      const message = `BatchWriteRow answered ${results?.length ?? 0} results for ${chunk.length} rows`;
      settle(slot, { code: 'MissingResult', message, status: undefined, requestId, kind: 'ambiguous', notSent: false }, undefined);
    } else if (result.isOk) {
      finish(slot, { ok: true });
    } else {
      const code = result.errorCode ?? 'UnknownError';
      const message = result.errorMessage ?? '';
      settle(slot, { code, message, status: undefined, requestId, kind: classifyCode(code, message), notSent: false }, undefined);
    }
  });
  return retryError === undefined ? {} : { retryError };
}

function finish(slot: WriteSlot, result: RecordWriteResult): void {
  slot.state = 'done';
  slot.result = result;
}

function uncertain(ctx: OperationContext, write: RecordWrite, error: BackendError): WriteUncertainError {
  return new WriteUncertainError(
    `${ctx.operation} on table ${ctx.table}, record ${JSON.stringify(write.partition)} / ${JSON.stringify(write.key)}: the ${write.type} may or may not have been applied (${error.backendCode ?? 'unknown'}: ${error.message}). ` +
      (write.type === 'put' ? `Read the record back: it was applied if its version is ${JSON.stringify(write.version)}.` : 'Read the record back to find out whether it still exists.'),
    { cause: error, operation: ctx.operation, table: ctx.table, retryable: true, ...serviceFields(error) },
  );
}
