import { AbortedError, ValidationError } from './errors.js';
import { describeValue } from './describe.js';
import { isWellFormed, utf8Length } from './utf8.js';

export { describeValue } from './describe.js';

/** Largest value of a signed 64-bit integer, the range of TableStore's INTEGER columns. */
export const MAX_SEQ = (1n << 63n) - 1n;
/** TableStore's limit on a string primary-key value, applied to timeline ids by every backend. */
export const MAX_TIMELINE_ID_BYTES = 1024;
/** Limit on a message id, so that it fits any backend's key or attribute. */
export const MAX_MESSAGE_ID_BYTES = 1024;
/** TableStore's smallest TTL other than -1. The memory backend declares it too, so that code tested there runs on TableStore. */
export const MIN_TTL_SECONDS = 86_400;

/**
 * Validates a timeline id (also a receiver or conversation id): a non-empty, well-formed UTF-16
 * string of at most 1 KB of UTF-8.
 */
export function checkTimelineId(value: unknown, parameter = 'timelineId'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a non-empty string, got ${describeValue(value)}`);
  }
  checkWellFormed(value, parameter);
  const bytes = utf8Length(value);
  if (bytes > MAX_TIMELINE_ID_BYTES) {
    throw new ValidationError(
      parameter,
      `Expected \`${parameter}\` to be at most ${MAX_TIMELINE_ID_BYTES} bytes of UTF-8 (TableStore's primary-key limit), got ${bytes} bytes`,
    );
  }
  return value;
}

/** Validates an optional message id: undefined, or a non-empty, well-formed string of at most 1 KB of UTF-8. */
export function checkMessageId(value: unknown, parameter = 'messageId'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a non-empty string or undefined, got ${describeValue(value)}`);
  }
  checkWellFormed(value, parameter);
  const bytes = utf8Length(value);
  if (bytes > MAX_MESSAGE_ID_BYTES) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be at most ${MAX_MESSAGE_ID_BYTES} bytes of UTF-8, got ${bytes} bytes`);
  }
  return value;
}

/**
 * Rejects a string holding a lone surrogate. UTF-8 cannot carry one: TableStore stores it as
 * U+FFFD, so `"user\uD800"` would land in the timeline of `"user\uFFFD"`, another id.
 */
export function checkWellFormed(value: string, parameter: string): void {
  if (!isWellFormed(value)) {
    const at = findLoneSurrogate(value);
    throw new ValidationError(
      parameter,
      `Expected \`${parameter}\` to be well-formed UTF-16, got a lone surrogate (U+${value.charCodeAt(at).toString(16).toUpperCase()}) at index ${at}; UTF-8 cannot store it, so the id would be stored as another one`,
    );
  }
}

function findLoneSurrogate(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return i;
    } else if (code >= 0xdc00 && code <= 0xdfff) return i;
  }
  return 0;
}

/**
 * Validates a seq: a bigint from 0 to 2^63-1. Use it also for seqs returned by user callbacks
 * (e.g. `largeGroupsOf`), so that a bad one is a `ValidationError`, not a `RangeError` later.
 */
export function checkSeq(value: unknown, parameter = 'seq'): bigint {
  if (typeof value !== 'bigint') {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a bigint (seqs are exact 64-bit integers), got ${describeValue(value)}`);
  }
  if (value < 0n || value > MAX_SEQ) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a bigint from 0n to ${MAX_SEQ}n, got ${value}n`);
  }
  return value;
}

/** Validates an optional seq. */
export function checkOptionalSeq(value: unknown, parameter: string): bigint | undefined {
  return value === undefined ? undefined : checkSeq(value, parameter);
}

/** Validates a positive safe integer (limits, sizes, concurrency). */
export function checkPositiveInteger(value: unknown, parameter: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be an integer from 1 and up, got ${describeValue(value)}`);
  }
  return value;
}

/** Validates an optional positive integer. */
export function checkOptionalPositiveInteger(value: unknown, parameter: string): number | undefined {
  return value === undefined ? undefined : checkPositiveInteger(value, parameter);
}

/**
 * TableStore's largest TTL: `time_to_live` is a 32-bit field, and the SDK silently wraps larger
 * values (2^32 + 86400 would become one day).
 */
export const MAX_TTL_SECONDS = 2 ** 31 - 1;

/**
 * Validates a TTL: undefined or -1 (forever), or an integer from `min` to `max` seconds (the
 * backend's declared limits). Returns -1 for forever.
 */
export function checkTtlSeconds(value: unknown, parameter = 'ttlSeconds', limits: { min: number; max: number; backend?: string } = { min: MIN_TTL_SECONDS, max: MAX_TTL_SECONDS }): number {
  if (value === undefined || value === -1) return -1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < limits.min || value > limits.max) {
    const whose = limits.backend === undefined ? '' : ` (the ${limits.backend} backend's limits)`;
    throw new ValidationError(
      parameter,
      `Expected \`${parameter}\` to be -1 or omitted (keep forever) or an integer of at least ${limits.min} seconds and at most ${limits.max}${whose}, got ${describeValue(value)}`,
    );
  }
  return value;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/**
 * Validates a table name against the backend's declared pattern (default: an identifier, 1 to
 * 255 letters, digits and underscores, not starting with a digit).
 */
export function checkTableName(value: unknown, parameter = 'table', pattern: RegExp = IDENTIFIER, backend?: string): string {
  if (typeof value !== 'string' || !isWellFormed(value) || !testPattern(pattern, value)) {
    const rule =
      pattern.source === IDENTIFIER.source
        ? '1 to 255 characters of letters, digits and underscores, not starting with a digit'
        : `a name matching ${String(pattern)}`;
    const whose = backend === undefined ? '' : ` (the ${backend} backend's table-name rule)`;
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be ${rule}${whose}, got ${describeValue(value)}`);
  }
  return value;
}

// A global or sticky pattern keeps state between calls; test from the start every time.
function testPattern(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(value);
}

/** Validates an array of timeline ids and returns the distinct ones, in first-seen order. */
export function checkTimelineIds(value: unknown, parameter: string): string[] {
  if (!Array.isArray(value)) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be an array of timeline ids, got ${describeValue(value)}`);
  }
  const seen = new Set<string>();
  // An index loop, not forEach: a hole of a sparse array is rejected, not skipped.
  for (let index = 0; index < value.length; index++) seen.add(checkTimelineId(value[index], `${parameter}[${index}]`));
  return [...seen];
}

/** Validates an optional function option. */
export function checkOptionalFunction<F>(value: unknown, parameter: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new ValidationError(parameter, `Expected \`${parameter}\` to be a function, got ${describeValue(value)}`);
  return value as F;
}

/** Validates an optional boolean option. */
export function checkOptionalBoolean(value: unknown, parameter: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(parameter, `Expected \`${parameter}\` to be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Validates an optional `AbortSignal`. */
export function checkSignal(value: unknown, parameter = 'options.signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be an AbortSignal, got ${describeValue(value)}`);
  }
  return value;
}

/** Validates that an options argument is an object or undefined. */
export function checkOptionsObject(value: unknown, parameter = 'options'): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be an object or undefined, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Throws an `AbortedError` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortedError({ operation, cause: signal.reason });
}
