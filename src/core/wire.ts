// Sending entries and cursors over HTTP as JSON. JSON has no bigint, and `JSON.stringify` throws
// on one, so seqs travel as decimal strings and are parsed back exactly on the way in.
import { ValidationError } from './errors.js';
import { describeValue } from './describe.js';
import { checkSeq } from './validate.js';

/**
 * A `JSON.stringify` replacer that writes every bigint (seqs, and bigints inside messages) as its
 * decimal string, so that entries, sync results and history pages can be sent as JSON.
 *
 * @example
 * ```ts
 * const result = await inbox.sync(userId, { cursor: request.query.cursor });
 * response.end(JSON.stringify(result, bigintReplacer)); // seqs become "1234567890123456789"
 * ```
 */
export function bigintReplacer(this: unknown, _key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Parses a seq received as text (a query parameter, a JSON field written by
 * {@link bigintReplacer}): a decimal string, or a bigint, from 0 to 2^63-1. Undefined stays
 * undefined, so optional parameters pass straight through.
 *
 * @example
 * ```ts
 * const page = await history.page(conversationId, { before: parseSeq(request.query.before, 'before') });
 * ```
 * @throws {ValidationError} naming `parameter` for anything else (a number loses precision above 2^53, so numbers are refused too).
 */
export function parseSeq(value: unknown, parameter = 'seq'): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'bigint') return checkSeq(value, parameter);
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,18})$/.test(value)) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be a seq as a decimal string (e.g. "42"), got ${describeValue(value)}`);
  }
  return checkSeq(BigInt(value), parameter);
}
