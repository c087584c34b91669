/**
 * Request plumbing: calling the SDK, turning its failures into `BackendError`s, and the retry loop
 * of requests that may safely be repeated. The write loops reuse the error builders.
 *
 * @packageDocumentation
 */
import { AbortedError, BackendError, type BackendErrorOptions } from '../../core/errors.js';
import { CERTIFICATE_REFUSED, decodeSdkError, readKind, type DecodedError } from './errors.js';
import { pause } from './retry.js';
import { log, type OperationContext, type Runtime } from './runtime.js';

/** An SDK call failed; carries the decoded error to the retry loops. */
export class SdkFailure extends Error {
  readonly decoded: DecodedError;
  constructor(decoded: DecodedError, cause: unknown) {
    super(decoded.message, { cause });
    this.decoded = decoded;
  }
}

/** Errors of requests that could not connect because nothing listens there (refused, unknown host). */
const unreachableErrors = new WeakSet<BackendError>();
// A misconfiguration or a server that is down. Other connect failures (EAI_AGAIN, ENETUNREACH, …)
// can be transient network trouble and are retried under the strategy like any retryable error.
const NOTHING_THERE = /\b(ECONNREFUSED|ENOTFOUND)\b/;

/**
 * Calls the SDK, turning its rejection into an {@link SdkFailure}, and notes on `ctx` whether the
 * server answered (any answer, even an error, proves it is there).
 */
export async function callSdk<T>(ctx: OperationContext, fn: () => Promise<T>): Promise<T> {
  try {
    const value = await fn();
    ctx.reached = true;
    return value;
  } catch (error) {
    const decoded = decodeSdkError(error);
    if (!decoded.notSent) ctx.reached = true;
    throw new SdkFailure(decoded, error);
  }
}

/** The decoded error and cause of anything an SDK call threw. */
export function failureOf(error: unknown): { decoded: DecodedError; cause: unknown } {
  return error instanceof SdkFailure ? { decoded: error.decoded, cause: error.cause } : { decoded: decodeSdkError(error), cause: error };
}

/**
 * One request that may safely be repeated, with retries: a read, or a table operation whose
 * repetition is harmless (a second CreateTable fails with OTSObjectAlreadyExist, UpdateTable and
 * DescribeTable are idempotent). Retryable and ambiguous errors are retried under the strategy.
 * A request in flight is abandoned when the caller's signal fires.
 */
export async function request<T>(rt: Runtime, ctx: OperationContext, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (rt.stopped(ctx)) throw rt.interruption(ctx);
    let decoded: DecodedError;
    let cause: unknown;
    try {
      log('%s %s%s (attempt %d)', ctx.operation, ctx.table, ctx.timelineId === undefined ? '' : ` timeline ${ctx.timelineId}`, attempt);
      return await abortable(ctx, callSdk(ctx, fn));
    } catch (error) {
      if (!(error instanceof SdkFailure)) throw error;
      decoded = error.decoded;
      cause = error.cause;
    }
    const kind = readKind(decoded);
    const error = backendError(ctx, decoded, cause, ctx.timelineId, kind !== 'fatal');
    if (kind === 'fatal') throw error;
    const unreachable = unreachableError(rt, ctx, error);
    if (unreachable !== undefined) throw unreachable;
    const delay = rt.retryStrategy({ attempt, error, elapsedMs: Date.now() - ctx.startedAt, operation: ctx.operation });
    if (delay === null) throw exhausted(ctx, error, attempt);
    log('%s %s: %s, retrying in %d ms', ctx.operation, ctx.table, decoded.code, delay);
    if (!(await pause(delay, rt.stopSignal(ctx.signal)))) throw rt.interruption(ctx);
  }
}

/** Rejects with an `AbortedError` as soon as the operation's signal fires. */
export async function abortable<T>(ctx: OperationContext, promise: Promise<T>): Promise<T> {
  const signal = ctx.signal;
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError({ operation: ctx.operation, table: ctx.table, timelineId: ctx.timelineId, cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A `BackendError` for a decoded SDK failure, naming the operation, table and timeline. */
export function backendError(ctx: OperationContext, decoded: DecodedError, cause: unknown, timelineId: string | undefined, retryable = decoded.kind !== 'fatal'): BackendError {
  const where = timelineId === undefined ? `table ${ctx.table}` : `table ${ctx.table}, timeline ${JSON.stringify(timelineId)}`;
  const id = decoded.requestId === undefined ? '' : ` (requestId ${decoded.requestId})`;
  const error = new BackendError(`${ctx.operation} on ${where} failed: ${decoded.code}${decoded.message ? `: ${decoded.message}` : ''}${id}`, {
    cause,
    operation: ctx.operation,
    table: ctx.table,
    ...(timelineId === undefined ? {} : { timelineId }),
    retryable,
    backendCode: decoded.code,
    ...(decoded.status === undefined ? {} : { status: decoded.status }),
    ...(decoded.requestId === undefined ? {} : { requestId: decoded.requestId }),
  });
  if (decoded.notSent && (NOTHING_THERE.test(decoded.message) || CERTIFICATE_REFUSED.test(decoded.message))) unreachableErrors.add(error);
  return error;
}

/** Copies the service fields of `error` into new error options. */
export function serviceFields(error: BackendError | undefined): { backendCode?: string; status?: number; requestId?: string } {
  return {
    ...(error?.backendCode === undefined ? {} : { backendCode: error.backendCode }),
    ...(error?.status === undefined ? {} : { status: error.status }),
    ...(error?.requestId === undefined ? {} : { requestId: error.requestId }),
  };
}

/** The error of a retryable failure once the strategy gave up, naming the option to change. */
export function exhausted(ctx: OperationContext, error: BackendError, attempts: number): BackendError {
  const elapsed = Date.now() - ctx.startedAt;
  return new BackendError(
    `${error.message} — gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${elapsed} ms: the retry budget is exhausted. ` +
      'Allow more time with the `retryStrategy` option of TableStoreBackend, e.g. `retryStrategy: createRetryStrategy({ budgetMs: 30_000 })`.',
    wrapping(ctx, error),
  );
}

/**
 * Options of an error that wraps `error` for the operation: its timeline and service fields,
 * retryable (both wrappers below end a call whose requests were never applied).
 */
function wrapping(ctx: OperationContext, error: BackendError): BackendErrorOptions {
  return {
    cause: error,
    operation: ctx.operation,
    table: ctx.table,
    ...(error.timelineId === undefined ? {} : { timelineId: error.timelineId }),
    retryable: true,
    ...serviceFields(error),
  };
}

/**
 * When no request of this operation has reached the server and this one could not even connect
 * (connection refused, unknown host), the endpoint is wrong or the server is down: that is not a
 * transient fault to retry for the whole budget. Returns the error to fail with at once, naming
 * the endpoint; undefined when the failure is an ordinary retryable one. A server certificate the
 * TLS handshake refused (self-signed, expired, another host's name) is the same kind of failure:
 * nothing was sent, and retrying will not change the certificate.
 */
export function unreachableError(rt: Runtime, ctx: OperationContext, error: BackendError): BackendError | undefined {
  if (ctx.reached === true || !unreachableErrors.has(error)) return undefined;
  const detail = error.cause instanceof Error ? error.cause.message : error.message;
  if (CERTIFICATE_REFUSED.test(detail)) {
    return new BackendError(
      `${ctx.operation} on table ${ctx.table} failed: the TLS certificate of ${rt.endpoint} was refused (${detail}). ` +
        "Check that `endpoint` is the instance's own host name; a private CA can be trusted with the NODE_EXTRA_CA_CERTS environment variable.",
      // The handshake failed before the request was sent: a later attempt is safe once that is fixed.
      wrapping(ctx, error),
    );
  }
  return new BackendError(
    `${ctx.operation} on table ${ctx.table} failed: cannot connect to ${rt.endpoint} (${detail}). ` +
      'Is the TableStore server (or the emulator: `npx tablestore-timeline-emulator`) running there? Check the `endpoint` option.',
    // Nothing was sent, so a later attempt is safe once the server is up.
    wrapping(ctx, error),
  );
}
