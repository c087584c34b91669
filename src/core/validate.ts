import { AbortedError, ValidationError } from './errors.js';
import { utf8Length } from './backend.js';

/** Largest value of a signed 64-bit integer, the range of TableStore's INTEGER columns. */
export const MAX_SEQ = (1n << 63n) - 1n;
/** TableStore's limit on a string primary-key value, applied to timeline ids by every backend. */
export const MAX_TIMELINE_ID_BYTES = 1024;
/** Limit on a message id, so that it fits any backend's key or attribute. */
export const MAX_MESSAGE_ID_BYTES = 1024;
/** TableStore's smallest TTL other than -1; enforced everywhere so code moves between backends. */
export const MIN_TTL_SECONDS = 86_400;

/** Short description of a value for error messages (never its whole content). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Validates a timeline id: a non-empty string of at most 1 KB of UTF-8. */
export function checkTimelineId(value: unknown, parameter = 'timelineId'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a non-empty string, got ${describeValue(value)}`);
  }
  const bytes = utf8Length(value);
  if (bytes > MAX_TIMELINE_ID_BYTES) {
    throw new ValidationError(
      parameter,
      `Expected \`${parameter}\` to be at most ${MAX_TIMELINE_ID_BYTES} bytes of UTF-8 (TableStore's primary-key limit), got ${bytes} bytes`,
    );
  }
  return value;
}

/** Validates an optional message id: undefined, or a non-empty string of at most 1 KB of UTF-8. */
export function checkMessageId(value: unknown, parameter = 'messageId'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a non-empty string or undefined, got ${describeValue(value)}`);
  }
  const bytes = utf8Length(value);
  if (bytes > MAX_MESSAGE_ID_BYTES) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be at most ${MAX_MESSAGE_ID_BYTES} bytes of UTF-8, got ${bytes} bytes`);
  }
  return value;
}

/** Validates a seq: a bigint from 0 to 2^63-1. */
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
 * values (2^32 + 86400 would become one day). Enforced everywhere, like the minimum.
 */
const MAX_TTL_SECONDS = 2 ** 31 - 1;

/** Validates a TTL: undefined or -1 (forever), or an integer from 86400 to 2^31-1 seconds. Returns -1 for forever. */
export function checkTtlSeconds(value: unknown, parameter = 'ttlSeconds'): number {
  if (value === undefined || value === -1) return -1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < MIN_TTL_SECONDS || value > MAX_TTL_SECONDS) {
    throw new ValidationError(
      parameter,
      `Expected \`${parameter}\` to be -1 or omitted (keep forever) or an integer of at least ${MIN_TTL_SECONDS} seconds (TableStore's minimum TTL) and at most ${MAX_TTL_SECONDS} (its 32-bit limit), got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Validates a table name the way TableStore does: a letter or underscore, then letters, digits or underscores, 1 to 255 chars. */
export function checkTableName(value: unknown, parameter = 'table'): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(value)) {
    throw new ValidationError(
      parameter,
      `Expected \`${parameter}\` to be 1 to 255 characters of letters, digits and underscores, not starting with a digit (TableStore's table-name rule), got ${describeValue(value)}`,
    );
  }
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
