/**
 * Checks of record calls made before anything is sent: a malformed write must never reach the
 * service half-applied, and a key the SDK would mangle must never address another record.
 *
 * @packageDocumentation
 */
import { ValidationError } from '../../core/errors.js';
import type { RecordLimits, RecordScanRequest, RecordWrite } from '../../core/records.js';

// In `u` mode a surrogate pair is one code point, so only a lone surrogate matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks a partition, key or version: a well-formed string (the SDK encodes a lone surrogate as
 * U+FFFD, which would address another record) of at most `maxBytes` UTF-8 bytes.
 * @throws {ValidationError} naming the parameter.
 */
export function checkString(value: unknown, parameter: string, maxBytes: number): string {
  if (typeof value !== 'string') throw new ValidationError(parameter, `Expected \`${parameter}\` to be a string, got ${describe(value)}`);
  if (LONE_SURROGATE.test(value)) throw new ValidationError(parameter, `Expected \`${parameter}\` to be well-formed UTF-16 (it holds a lone surrogate)`);
  const bytes = Buffer.byteLength(value);
  if (bytes > maxBytes) throw new ValidationError(parameter, `Expected \`${parameter}\` to be at most ${maxBytes} UTF-8 bytes, got ${bytes}`);
  return value;
}

/**
 * Checks the writes of one `writeRecords` call.
 * @throws {ValidationError} for malformed writes, too many, or one record named twice (the service rejects such a batch as a whole).
 */
export function checkRecordWrites(writes: readonly RecordWrite[], limits: RecordLimits): void {
  if (!Array.isArray(writes)) throw new ValidationError('writes', `Expected \`writes\` to be an array, got ${describe(writes)}`);
  if (writes.length > limits.maxBatchWrites) throw new ValidationError('writes', `Expected at most ${limits.maxBatchWrites} writes per writeRecords call, got ${writes.length}`);
  const seen = new Set<string>();
  writes.forEach((write: unknown, i) => {
    const at = `writes[${i}]`;
    if (write === null || typeof write !== 'object') throw new ValidationError(at, `Expected \`${at}\` to be a put or delete object, got ${describe(write)}`);
    const w = write as Partial<Record<keyof RecordWrite | 'value' | 'version', unknown>>;
    if (w.type !== 'put' && w.type !== 'delete') throw new ValidationError(`${at}.type`, `Expected \`${at}.type\` to be 'put' or 'delete', got ${describe(w.type)}`);
    const partition = checkString(w.partition, `${at}.partition`, limits.maxKeyBytes);
    const key = checkString(w.key, `${at}.key`, limits.maxKeyBytes);
    if (w.type === 'put') {
      if (!(w.value instanceof Uint8Array)) throw new ValidationError(`${at}.value`, `Expected \`${at}.value\` to be a Uint8Array, got ${describe(w.value)}`);
      if (w.value.byteLength > limits.maxValueBytes) {
        throw new ValidationError(`${at}.value`, `\`${at}.value\` is ${w.value.byteLength} bytes, over the limit of ${limits.maxValueBytes} bytes per record`, { code: 'MESSAGE_TOO_LARGE' });
      }
      checkString(w.version, `${at}.version`, limits.maxKeyBytes);
    }
    checkExpectation(w.expect, `${at}.expect`, limits.maxKeyBytes);
    // Structured, hence injective: no partition can forge a key boundary.
    const id = JSON.stringify([partition, key]);
    if (seen.has(id)) throw new ValidationError(at, `Expected each record at most once per writeRecords call; ${JSON.stringify(partition)} / ${JSON.stringify(key)} appears twice`);
    seen.add(id);
  });
}

function checkExpectation(expect: unknown, parameter: string, maxBytes: number): void {
  if (expect === undefined || expect === 'absent' || expect === 'present') return;
  if (expect !== null && typeof expect === 'object' && Object.hasOwn(expect, 'version')) {
    checkString((expect as { version: unknown }).version, `${parameter}.version`, maxBytes);
    return;
  }
  if (expect !== null && typeof expect === 'object' && Object.hasOwn(expect, 'versionBelow')) {
    checkString((expect as { versionBelow: unknown }).versionBelow, `${parameter}.versionBelow`, maxBytes);
    return;
  }
  throw new ValidationError(parameter, `Expected \`${parameter}\` to be 'absent', 'present', { version: string } or { versionBelow: string }, got ${describe(expect)}`);
}

/**
 * Checks a scan request.
 * @throws {ValidationError} naming the parameter.
 */
export function checkScanRequest(request: RecordScanRequest, limits: RecordLimits): void {
  if (request === null || typeof request !== 'object') throw new ValidationError('request', `Expected \`request\` to be an object, got ${describe(request)}`);
  checkString(request.partition, 'request.partition', limits.maxKeyBytes);
  if (request.start !== undefined) checkString(request.start, 'request.start', limits.maxKeyBytes);
  if (request.end !== undefined) checkString(request.end, 'request.end', limits.maxKeyBytes);
  const limit: unknown = request.limit;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > limits.maxScanPageRecords) {
    throw new ValidationError('request.limit', `Expected \`request.limit\` to be an integer from 1 to ${limits.maxScanPageRecords}, got ${describe(limit)}`);
  }
}

// Total: never throws, whatever the value (a null-prototype object has no toString).
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'function') return `a ${typeof value}`;
  return String(value);
}
