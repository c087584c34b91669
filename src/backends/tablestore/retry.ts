import { ValidationError } from '../../core/errors.js';
import type { BackendError } from '../../core/errors.js';

/** What a {@link RetryStrategy} is told about a failure. */
export interface RetryContext {
  /** How many attempts have been made so far (1 after the first failure). */
  readonly attempt: number;
  /** The error of the latest attempt; always one the service defines as retryable. */
  readonly error: BackendError;
  /** Milliseconds since the operation started (including earlier pauses). */
  readonly elapsedMs: number;
  /** The operation, e.g. `'append'`, `'scan'`, `'get'`, `'ensureTable'`. */
  readonly operation: string;
}

/**
 * Decides whether to retry and after how long: return the pause in milliseconds, or `null` to give
 * up (the caller then gets the last error, marked as a budget exhaustion). Only errors the service
 * defines as retryable reach it; others are never retried.
 *
 * @example
 * ```ts
 * // ioredis-style: a fixed schedule of at most five retries.
 * const retryStrategy: RetryStrategy = ({ attempt }) => (attempt <= 5 ? attempt * 100 : null);
 * ```
 */
export type RetryStrategy = (context: RetryContext) => number | null;

/** Options of {@link createRetryStrategy}. */
export interface RetryStrategyOptions {
  /**
   * Total time, in milliseconds, after which no further attempt is started.
   * @default 10000 (like the official Java and Go SDKs)
   */
  budgetMs?: number;
  /**
   * The first pause in milliseconds; each later pause doubles it.
   * @default 10
   */
  baseDelayMs?: number;
  /**
   * The longest pause in milliseconds.
   * @default 320
   */
  maxDelayMs?: number;
  /**
   * Source of randomness in [0, 1), for tests.
   * @default Math.random
   */
  random?: () => number;
}

function checkDelay(value: unknown, parameter: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a finite number of milliseconds from ${min} and up, got ${String(value)}`);
  }
  return value;
}

/**
 * The default retry policy: exponential pauses (`baseDelayMs`, doubling, capped at `maxDelayMs`)
 * with "equal jitter" (each pause is drawn from its upper half, so that many clients throttled
 * together do not retry in lock-step), within a total time budget.
 *
 * @throws {ValidationError} for a negative or non-finite option.
 * @example
 * ```ts
 * new TableStoreBackend({ client, retryStrategy: createRetryStrategy({ budgetMs: 30_000 }) });
 * ```
 */
export function createRetryStrategy(options: RetryStrategyOptions = {}): RetryStrategy {
  const budgetMs = checkDelay(options.budgetMs, 'options.budgetMs', 10_000, 0);
  const baseDelayMs = checkDelay(options.baseDelayMs, 'options.baseDelayMs', 10, 0);
  const maxDelayMs = checkDelay(options.maxDelayMs, 'options.maxDelayMs', 320, 0);
  const random = options.random ?? Math.random;
  return ({ attempt, elapsedMs }) => {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
    const delay = Math.round(ceiling / 2 + (ceiling / 2) * random());
    return elapsedMs + delay > budgetMs ? null : delay;
  };
}

/** Sleeps `ms`, resolving early with `false` when `signal` fires; `true` otherwise. */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
