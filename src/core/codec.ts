import type { Codec } from './types.js';

const BIGINT_TAG = '$bigint';
const ESCAPE_TAG = '$escape';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The error thrown by {@link jsonCodec} for a value JSON cannot carry exactly; `path` locates it
 * inside the message (e.g. `message.attachments[2].size`).
 */
export class CodecValueError extends TypeError {
  /** Where in the message the value sits, e.g. `message.items[2].price`. */
  readonly path: string;
  constructor(path: string, what: string) {
    super(`${path}: ${what} cannot be encoded by the default JSON codec; convert it first or pass a custom \`codec\``);
    this.name = 'CodecValueError';
    this.path = path;
  }
}

function isTagObject(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === BIGINT_TAG || keys[0] === ESCAPE_TAG);
}

// Converts a message into a JSON-safe tree, refusing anything JSON would silently change
// (NaN becoming null, a Map becoming {}, a Date becoming a string, a cycle overflowing the stack).
function toJsonTree(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CodecValueError(path, `the number ${value}`);
      return value;
    case 'bigint':
      return { [BIGINT_TAG]: value.toString() };
    case 'undefined':
      throw new CodecValueError(path, 'undefined');
    case 'function':
      throw new CodecValueError(path, 'a function');
    case 'symbol':
      throw new CodecValueError(path, 'a symbol');
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) throw new CodecValueError(path, 'a circular reference');
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      return object.map((item, index) => toJsonTree(item, `${path}[${index}]`, seen));
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CodecValueError(path, `a ${name} instance`);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) {
      // An absent property and an undefined one read the same after decoding; dropping it is exact.
      if (item === undefined) continue;
      out[key] = toJsonTree(item, `${path}.${key}`, seen);
    }
    // A user object that looks like one of our tags is wrapped so that decoding restores it as is.
    return isTagObject(out) ? { [ESCAPE_TAG]: out } : out;
  } finally {
    seen.delete(object);
  }
}

function fromJsonTree(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromJsonTree);
  const record = value as Record<string, unknown>;
  if (isTagObject(record)) {
    if (BIGINT_TAG in record) {
      const digits = record[BIGINT_TAG];
      if (typeof digits !== 'string' || !/^-?\d+$/.test(digits)) throw new TypeError(`malformed ${BIGINT_TAG} value`);
      return BigInt(digits);
    }
    const inner = record[ESCAPE_TAG];
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw new TypeError(`malformed ${ESCAPE_TAG} value`);
    // The escaped object is a tag lookalike whose own values still need decoding.
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(inner)) out[key] = fromJsonTree(item);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) out[key] = fromJsonTree(item);
  return out;
}

/**
 * The default codec: UTF-8 JSON that also round-trips `bigint` exactly. Accepts plain objects,
 * arrays, strings, finite numbers, booleans, `null` and `bigint`; rejects with a
 * {@link CodecValueError} anything JSON would silently alter (`NaN`, `Infinity`, `undefined` in an
 * array, functions, symbols, class instances such as `Date` or `Map`, circular references).
 *
 * @example
 * ```ts
 * const codec = jsonCodec<{ text: string; amount: bigint }>();
 * codec.decode(codec.encode({ text: 'hi', amount: 2n ** 63n - 1n })); // exact
 * ```
 */
export function jsonCodec<T>(): Codec<T> {
  return {
    encode(message: T): Uint8Array {
      return encoder.encode(JSON.stringify(toJsonTree(message, 'message', new Set())));
    },
    decode(bytes: Uint8Array): T {
      return fromJsonTree(JSON.parse(decoder.decode(bytes))) as T;
    },
  };
}
