import type { Codec } from './types.js';

const BIGINT_TAG = '$bigint';
const ESCAPE_TAG = '$escape';
// JSON writes -0 as 0; the codec writes {"$number":"-0"} instead, so that it comes back as -0.
const NUMBER_TAG = '$number';
const NEGATIVE_ZERO = '-0';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;
// Deeper trees take the exact path, which also reports cycles (a cycle is infinitely deep).
const MAX_FAST_DEPTH = 64;
// Small messages are encoded into shared slabs, as Node does for small Buffers: one ArrayBuffer
// per message costs more than encoding a ~100-byte message (allocation and GC tracking).
const SLAB_BYTES = 16 * 1024;
const MAX_SLAB_CHARS = Math.floor(SLAB_BYTES / 8);
let slab: WritableSlab = new Uint8Array(0);
let slabBuffer = slab.buffer;
let slabOffset = 0;

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
  return keys.length === 1 && (keys[0] === BIGINT_TAG || keys[0] === ESCAPE_TAG || keys[0] === NUMBER_TAG);
}

// Sets an own property, even one named `__proto__`, which plain assignment would turn into a
// prototype change (and the key would be lost).
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

// Converts a message into a JSON-safe tree, refusing anything JSON would silently change
// (NaN becoming null, a Map becoming {}, a Date becoming a string, an array hole becoming null, a
// cycle overflowing the stack) and tagging what JSON cannot write (bigint, -0).
function toJsonTree(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new CodecValueError(path, `the number ${value}`);
      return value === 0 && 1 / value < 0 ? { [NUMBER_TAG]: NEGATIVE_ZERO } : value;
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
      const items: unknown[] = [];
      for (let index = 0; index < object.length; index++) {
        if (!(index in object)) throw new CodecValueError(`${path}[${index}]`, 'an array hole (JSON would write null)');
        items.push(toJsonTree(object[index], `${path}[${index}]`, seen));
      }
      return items;
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
      setOwn(out, key, toJsonTree(item, `${path}.${key}`, seen));
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
    if (NUMBER_TAG in record) {
      // Only the codec's own tag means -0; anything else is a user object written before the tag
      // existed (when it was not escaped), kept as it is.
      if (record[NUMBER_TAG] === NEGATIVE_ZERO) return -0;
      return { [NUMBER_TAG]: fromJsonTree(record[NUMBER_TAG]) };
    }
    if (BIGINT_TAG in record) {
      const digits = record[BIGINT_TAG];
      if (typeof digits !== 'string' || !/^-?\d+$/.test(digits)) throw new TypeError(`malformed ${BIGINT_TAG} value`);
      return BigInt(digits);
    }
    const inner = record[ESCAPE_TAG];
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw new TypeError(`malformed ${ESCAPE_TAG} value`);
    // The escaped object is a tag lookalike whose own values still need decoding.
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(inner)) setOwn(out, key, fromJsonTree(item));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) setOwn(out, key, fromJsonTree(item));
  return out;
}

/**
 * The default codec: UTF-8 JSON that also round-trips `bigint`, `-0` and own `__proto__` keys
 * exactly. Accepts plain (or null-prototype) objects, arrays, strings, finite numbers, booleans,
 * `null` and `bigint`; rejects with a {@link CodecValueError} naming the path anything JSON would
 * silently alter (`NaN`, `Infinity`, `undefined` in an array, array holes, functions, symbols,
 * class instances such as `Date` or `Map`, circular references). Object properties whose value is
 * `undefined` are left out: they read the same after decoding. Decoded objects have
 * `Object.prototype`.
 *
 * Like Node's small Buffers, the bytes of a small message may be a view into a larger
 * `ArrayBuffer` shared with other encoded messages: use `byteOffset` and `byteLength` when
 * reaching for `.buffer`. The view itself is never written again.
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
      // Most messages need no conversion: JSON.stringify of the message itself gives the same
      // text as JSON.stringify of its converted tree, without building that tree.
      const json = isPlainJson(message, 0) ? JSON.stringify(message) : JSON.stringify(toJsonTree(message, 'message', new Set()));
      return utf8Encode(json);
    },
    decode(bytes: Uint8Array): T {
      const json = decoder.decode(bytes);
      const value: unknown = JSON.parse(json);
      return (mayNeedTree(json) ? fromJsonTree(value) : value) as T;
    },
  };
}

// True when JSON.stringify(value) is exactly what the exact path (toJsonTree) would produce:
// only finite numbers other than -0, strings, booleans, null, plain arrays without undefined or
// holes, plain objects without `$`-prefixed or `__proto__` keys, at most MAX_FAST_DEPTH deep. Anything else,
// including every value the codec rejects, goes through toJsonTree, which converts or throws.
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= MAX_FAST_DEPTH) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === ARRAY_PROTOTYPE && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined || !isPlainJson(item, depth + 1)) return false;
    }
    return true;
  }
  if (proto !== OBJECT_PROTOTYPE && proto !== null) return false;
  const record = value as Record<string, unknown>;
  // for-in also visits inherited enumerable keys (only if Object.prototype was extended): checking
  // them too can only send a message to the exact path, never change what is encoded.
  for (const key in record) {
    if (key.charCodeAt(0) === 36 /* $ */ || key === '__proto__') return false;
    const item = record[key];
    if (item !== undefined && !isPlainJson(item, depth + 1)) return false;
  }
  return true;
}

// Whether fromJsonTree could return anything but an equal copy of JSON.parse(json): only when the
// text holds a `$` (a tag), a backslash (an escape may spell a tag or `__proto__`) or `__proto__`
// (which the exact path assigns, setting a prototype).
function mayNeedTree(json: string): boolean {
  return json.indexOf('$') !== -1 || json.indexOf('\\') !== -1 || json.indexOf('__proto__') !== -1;
}

// On Node the slab is a Buffer, whose documented `write(text, offset)` encodes UTF-8 in place
// without allocating (unlike `encodeInto`, which needs a subarray and returns an object);
// elsewhere TextEncoder does it.
interface WritableSlab extends Uint8Array {
  write?(text: string, offset: number): number;
}
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): WritableSlab } }).Buffer;

// UTF-8 bytes of `text`. Small results are views into a shared slab (never reused, so no view is
// ever overwritten); large ones get their own buffer.
function utf8Encode(text: string): Uint8Array {
  if (text.length > MAX_SLAB_CHARS) return encoder.encode(text);
  // At most 3 bytes per UTF-16 code unit, so the whole text fits.
  if (slabOffset + text.length * 3 > slab.length) {
    slab = NodeBuffer === undefined ? new Uint8Array(SLAB_BYTES) : NodeBuffer.allocUnsafeSlow(SLAB_BYTES);
    slabBuffer = slab.buffer;
    slabOffset = 0;
  }
  const written = slab.write === undefined ? encoder.encodeInto(text, slab.subarray(slabOffset)).written : slab.write(text, slabOffset);
  const bytes = new Uint8Array(slabBuffer, slab.byteOffset + slabOffset, written);
  slabOffset += written;
  return bytes;
}
