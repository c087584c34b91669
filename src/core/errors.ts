/**
 * The error hierarchy of `tablestore-timeline`.
 *
 * Every error this library throws is a {@link TimelineError} with a stable {@link TimelineError.code}
 * that callers may branch on; subclasses exist only where a caller would handle the case differently
 * (bad input, a closed store, a backend failure, a partly applied batch, an unusable cursor).
 *
 * @packageDocumentation
 */

/**
 * Stable error codes. New codes may be added in minor versions; existing ones never change meaning.
 *
 * - `INVALID_ARGUMENT`: a parameter was wrong; nothing was written.
 * - `MESSAGE_TOO_LARGE`: an encoded message exceeds the backend's per-message limit; nothing was written.
 * - `CODEC`: the codec could not encode or decode a message.
 * - `CLOSED`: the store or backend was closed before or during the call.
 * - `ABORTED`: the caller's `AbortSignal` fired.
 * - `TABLE_INCOMPATIBLE`: an existing table does not have the layout or TTL this store needs.
 * - `BACKEND`: the backend (e.g. TableStore) reported an error; see {@link BackendError}.
 * - `WRITE_UNCERTAIN`: a write may or may not have been applied and the backend could not tell.
 * - `PARTIAL_WRITE`: a multi-row append applied some rows and not others; see {@link PartialWriteError}.
 * - `INVALID_CURSOR`: a sync cursor is malformed, tampered with, or belongs to someone else.
 * - `NOT_SUPPORTED`: the backend cannot perform the operation.
 * - `MISSING_DEPENDENCY`: an optional peer dependency (e.g. `tablestore`) is not installed.
 * - `SEND_IN_PROGRESS`: another caller is sending the same message right now (the send journal);
 *   retryable: a later re-send gets its result.
 * - `NOT_FOUND`: the entry (or message) an update, edit or recall names does not exist; nothing
 *   was written.
 * - `FORBIDDEN`: a permission rule refused the change (e.g. a recall by someone other than the
 *   sender, or after the recall window); nothing was written.
 * - `CHANGE_IN_PROGRESS`: another caller is changing the same message right now (recall, edit);
 *   retryable.
 */
export type TimelineErrorCode =
  | 'INVALID_ARGUMENT'
  | 'MESSAGE_TOO_LARGE'
  | 'CODEC'
  | 'CLOSED'
  | 'ABORTED'
  | 'TABLE_INCOMPATIBLE'
  | 'BACKEND'
  | 'WRITE_UNCERTAIN'
  | 'PARTIAL_WRITE'
  | 'INVALID_CURSOR'
  | 'NOT_SUPPORTED'
  | 'MISSING_DEPENDENCY'
  | 'SEND_IN_PROGRESS'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'CHANGE_IN_PROGRESS';

/** Context attached to every {@link TimelineError}. */
export interface TimelineErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** The operation that failed, e.g. `'append'`, `'scan'`, `'init'`, `'fanOut'`. */
  operation?: string;
  /** The table the operation concerned. */
  table?: string;
  /** The timeline the operation concerned. */
  timelineId?: string;
  /**
   * Whether repeating the same call may succeed. Defaults to `false`.
   * @default false
   */
  retryable?: boolean;
}

/**
 * Base class of every error thrown by this library.
 *
 * @example
 * ```ts
 * try {
 *   await timeline.append(message);
 * } catch (error) {
 *   if (error instanceof TimelineError && error.retryable) scheduleRetry();
 *   else throw error;
 * }
 * ```
 */
export class TimelineError extends Error {
  /** A stable, machine-readable code. */
  readonly code: TimelineErrorCode;
  /** The operation that failed, when known. */
  readonly operation: string | undefined;
  /** The table concerned, when known. */
  readonly table: string | undefined;
  /** The timeline concerned, when known. */
  readonly timelineId: string | undefined;
  /** Whether repeating the same call may succeed. */
  readonly retryable: boolean;

  constructor(code: TimelineErrorCode, message: string, options: TimelineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TimelineError';
    this.code = code;
    this.operation = options.operation;
    this.table = options.table;
    this.timelineId = options.timelineId;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A parameter was invalid. Thrown before anything is written.
 *
 * `parameter` names the offending parameter (e.g. `'timelineId'`, `'options.limit'`, `'messages[3]'`).
 */
export class ValidationError extends TimelineError {
  /** The parameter that was wrong, as the caller would write it. */
  readonly parameter: string;

  constructor(
    parameter: string,
    message: string,
    options: TimelineErrorOptions & { code?: 'INVALID_ARGUMENT' | 'MESSAGE_TOO_LARGE' | 'CODEC' } = {},
  ) {
    super(options.code ?? 'INVALID_ARGUMENT', message, options);
    this.name = 'ValidationError';
    this.parameter = parameter;
  }
}

/** The store or backend is closed. */
export class ClosedError extends TimelineError {
  constructor(what: string, options: TimelineErrorOptions = {}) {
    super('CLOSED', `${what} is closed`, options);
    this.name = 'ClosedError';
  }
}

/** The caller's `AbortSignal` fired. The `cause` is the signal's reason. */
export class AbortedError extends TimelineError {
  constructor(options: TimelineErrorOptions = {}) {
    super('ABORTED', `${options.operation ?? 'operation'} was aborted`, options);
    this.name = 'AbortedError';
  }
}

/** Extra context carried by a {@link BackendError}. */
export interface BackendErrorOptions extends TimelineErrorOptions {
  /** The backend's own error code, e.g. `'OTSServerBusy'`, or `'NetworkingError'`. */
  backendCode?: string;
  /** The HTTP status of the failed request, when there was one. */
  status?: number;
  /** The backend's request id (TableStore's `x-ots-requestid`), for support tickets. */
  requestId?: string;
}

/**
 * The backend reported an error. `backendCode` carries the backend's own code (for TableStore, the
 * decoded OTS code such as `'OTSServerBusy'`, which the official Node SDK loses), `retryable` says
 * whether the service defines it as safe to retry, and `requestId` identifies the request.
 */
export class BackendError extends TimelineError {
  /** The backend's own error code, e.g. `'OTSServerBusy'`. */
  readonly backendCode: string | undefined;
  /** The HTTP status, when known. */
  readonly status: number | undefined;
  /** The backend's request id, when known. */
  readonly requestId: string | undefined;

  constructor(message: string, options: BackendErrorOptions = {}, code: TimelineErrorCode = 'BACKEND') {
    super(code, message, options);
    this.name = 'BackendError';
    this.backendCode = options.backendCode;
    this.status = options.status;
    this.requestId = options.requestId;
  }
}

/**
 * A write may or may not have been applied (the request timed out or its connection dropped after
 * it was sent) and the backend could not establish which. The caller decides whether to re-send;
 * with a `messageId`, re-sending through this library does not duplicate the entry.
 */
export class WriteUncertainError extends BackendError {
  constructor(message: string, options: BackendErrorOptions = {}) {
    super(message, options, 'WRITE_UNCERTAIN');
    this.name = 'WriteUncertainError';
  }
}

/** An existing table cannot be used as configured (wrong primary key layout, or a TTL mismatch). */
export class TableIncompatibleError extends TimelineError {
  constructor(message: string, options: TimelineErrorOptions = {}) {
    super('TABLE_INCOMPATIBLE', message, options);
    this.name = 'TableIncompatibleError';
  }
}

/** The per-row outcome of a multi-row write. */
export type RowOutcome<E> = RowWritten<E> | RowFailed;

/** A row that was written. */
export interface RowWritten<E> {
  /** Always true. */
  readonly ok: true;
  /** The written entry. */
  readonly entry: E;
}

/** A row that was not written, or whose fate is unknown. */
export interface RowFailed {
  /** Always false. */
  readonly ok: false;
  /** Why; `error.retryable` says whether re-sending may succeed. */
  readonly error: TimelineError;
}

/**
 * A multi-row append applied some rows and not others. `outcomes[i]` is the outcome of input `i`,
 * so the caller can re-send exactly the failed rows.
 */
export class PartialWriteError<E = unknown> extends TimelineError {
  /** One outcome per input row, in input order. */
  readonly outcomes: readonly RowOutcome<E>[];

  constructor(message: string, outcomes: readonly RowOutcome<E>[], options: TimelineErrorOptions = {}) {
    const firstFailure = outcomes.find((o): o is RowFailed => !o.ok);
    super('PARTIAL_WRITE', message, {
      ...options,
      cause: options.cause ?? firstFailure?.error,
      retryable: options.retryable ?? outcomes.every((o) => o.ok || o.error.retryable),
    });
    this.name = 'PartialWriteError';
    this.outcomes = outcomes;
  }

  /** The entries that were written, in input order. */
  get written(): E[] {
    return this.outcomes.flatMap((o) => (o.ok ? [o.entry] : []));
  }
}

/** A sync cursor is malformed, was tampered with, or belongs to another receiver or store. */
export class InvalidCursorError extends TimelineError {
  constructor(message: string, options: TimelineErrorOptions = {}) {
    super('INVALID_CURSOR', message, options);
    this.name = 'InvalidCursorError';
  }
}

/** True when `error` is a {@link TimelineError} (of any subclass) with the given code. */
export function isTimelineError(error: unknown, code?: TimelineErrorCode): error is TimelineError {
  return error instanceof TimelineError && (code === undefined || error.code === code);
}
