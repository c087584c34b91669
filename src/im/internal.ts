// Helpers shared by the IM layer. Not exported from the package.
import { TimelineError } from '../core/errors.js';
import type { Timeline } from '../core/timeline.js';
import type { TimelineEntry } from '../core/types.js';
import { describeError } from '../core/describe.js';
import { checkOptionalFunction, checkPositiveInteger, describeValue, MAX_SEQ } from '../core/validate.js';

/** Default number of newest entries searched for a message id before writing it again. */
export const DEFAULT_DEDUPE_WINDOW = 100;

/** Short description of a value for error messages. */
export const describe = describeValue;

// Generic checks live in core/validate.ts; re-exported for the IM modules that import them here.
export { checkOptionalBoolean, checkOptionalFunction, checkTimelineIds } from '../core/validate.js';

/** Validates `options.dedupeWindow`. */
export function checkDedupeWindow(value: unknown, parameter = 'options.dedupeWindow'): number {
  return value === undefined ? DEFAULT_DEDUPE_WINDOW : checkPositiveInteger(value, parameter);
}

/** A clock option: a function returning milliseconds since the epoch. */
export function checkClock(value: unknown, parameter = 'options.now'): (() => number) | undefined {
  return checkOptionalFunction<() => number>(value, parameter);
}

/** Reads a clock as a non-negative integer number of milliseconds. */
export function readClock(now: () => number): number {
  const value = now();
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TimelineError('INVALID_ARGUMENT', `the injected clock returned ${describe(value)}; expected milliseconds since the epoch`);
  }
  return Math.max(0, Math.floor(value));
}

/** The inclusive scan start that follows `seq`, or `null` when nothing can follow it. */
export function after(seq: bigint | undefined): bigint | undefined | null {
  if (seq === undefined) return undefined;
  return seq >= MAX_SEQ ? null : seq + 1n;
}

/** Converts anything thrown into a {@link TimelineError}, keeping ours as they are. */
export function toTimelineError(error: unknown, operation: string, timelineId?: string): TimelineError {
  if (error instanceof TimelineError) return error;
  return new TimelineError('BACKEND', `${operation} failed: ${describeError(error)}`, { cause: error, operation, timelineId });
}

/**
 * Looks for an entry with `messageId` among the newest `window` entries of a timeline (one backward
 * scan). `matches` narrows the match further, e.g. to one conversation.
 */
export async function findInTail<T>(
  timeline: Timeline<T>,
  messageId: string,
  window: number,
  signal: AbortSignal | undefined,
  matches?: (entry: TimelineEntry<T>) => boolean,
): Promise<TimelineEntry<T> | undefined> {
  for await (const entry of timeline.scan({ direction: 'backward', limit: window, signal })) {
    if (entry.messageId === messageId && (matches === undefined || matches(entry))) return entry;
  }
  return undefined;
}

/**
 * One page of at most `limit` entries, and whether more follow: reads `limit + 1` entries through
 * `scan` (given the number to read) and keeps `limit`.
 */
export async function readPage<E>(scan: (count: number) => AsyncIterable<E>, limit: number): Promise<{ entries: E[]; hasMore: boolean }> {
  const entries = await collect(scan(limit + 1));
  const hasMore = entries.length > limit;
  if (hasMore) entries.length = limit;
  return { entries, hasMore };
}

/** Collects an async iterable into an array. */
export async function collect<E>(iterable: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * A lazy initialisation shared by concurrent callers: the first call runs `init`, later ones get
 * the same promise; a failed run is forgotten, so that the next call tries again.
 */
export function lazyOnce(init: () => Promise<unknown>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () =>
    (pending ??= init().then(
      () => undefined,
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    ));
}
