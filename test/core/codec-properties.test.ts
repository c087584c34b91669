// Property tests of the default codec's promise: every value it accepts comes back exactly
// (bigint, -0, own `__proto__` keys included), and every value JSON would alter is rejected with a
// CodecValueError naming its path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecValueError, jsonCodec, TimelineStore, MemoryBackend, ValidationError } from '../../src/index.js';

const codec = jsonCodec<unknown>();

// A structural description that tells apart what deep equality may not: -0, bigint vs number, own
// keys in order, holes, and prototypes (a `__proto__` key may have set one).
function shape(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? 'number:-0' : `number:${value}`;
  if (typeof value === 'bigint') return `bigint:${value}`;
  if (value === null || typeof value !== 'object') return `${typeof value}:${String(value)}`;
  const proto = Object.getPrototypeOf(value) as object | null;
  return {
    proto: proto === Array.prototype ? 'Array' : proto === Object.prototype ? 'Object' : String(proto),
    own: Reflect.ownKeys(value)
      .filter((key) => key !== 'length' || !Array.isArray(value))
      .map((key) => [String(key), shape((value as Record<PropertyKey, unknown>)[key])]),
  };
}

// What decoding must give back: the same value, minus object properties holding undefined (absent
// and undefined read the same), with plain prototypes.
function expected(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(expected);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) Object.defineProperty(out, key, { value: expected(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// The path of the first value JSON would alter, in the codec's traversal order, or undefined.
function firstRejected(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'undefined') return path;
  if (value === null || typeof value !== 'object') return undefined;
  if (seen.has(value)) return path;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return `${path}[${i}]`;
        const found = firstRejected(value[i], `${path}[${i}]`, seen);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return path;
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const found = firstRejected(item, `${path}.${key}`, seen);
      if (found !== undefined) return found;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}

function objectOf(entries: readonly [string, unknown][], bare: boolean): Record<string, unknown> {
  const out = (bare ? Object.create(null) : {}) as Record<string, unknown>;
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

function withHoles(items: unknown[], holes: number[]): unknown[] {
  const out = [...items];
  for (const hole of holes) if (hole < out.length) delete out[hole];
  return out;
}

const keyArb = fc.oneof(fc.constantFrom('$bigint', '$escape', '$number', '__proto__', 'toJSON', 'a', '0', 'constructor'), fc.string({ maxLength: 5 }));
const leafArb = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom('$bigint', '-0', '__proto__', '\ud800', '👍'),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.NEGATIVE_INFINITY, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom<unknown>(new Date(0), new Map(), Symbol('s'), () => 1),
);
const { value: valueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.tuple(fc.array(tie('value'), { maxLength: 4 }), fc.array(fc.nat(4), { maxLength: 2 })).map(([items, holes]) => withHoles(items, holes)),
    fc.tuple(fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 4 }), fc.boolean()).map(([entries, bare]) => objectOf(entries, bare)),
  ),
}));

describe('jsonCodec properties', () => {
  it('round-trips every accepted value exactly, and rejects exactly what JSON would alter, naming the path', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const rejectedAt = firstRejected(value, 'message', new Set());
        let bytes: Uint8Array;
        try {
          bytes = codec.encode(value);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecValueError);
          expect((error as CodecValueError).path).toBe(rejectedAt);
          return;
        }
        expect(rejectedAt).toBeUndefined();
        expect(shape(codec.decode(bytes))).toEqual(shape(expected(value)));
      }),
      { numRuns: 3000, seed: 20261201 },
    );
  });

  it('keeps -0, an own __proto__ key and tag lookalikes', () => {
    const roundTrip = (value: unknown): unknown => codec.decode(codec.encode(value));
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Object.is((roundTrip({ a: [-0] }) as { a: number[] }).a[0], -0)).toBe(true);
    expect(Object.is(roundTrip(0), 0)).toBe(true);
    const proto = objectOf([['__proto__', { admin: true }]], false);
    const back = roundTrip(proto) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ admin: true });
    expect((back as { admin?: unknown }).admin).toBeUndefined();
    for (const lookalike of [{ $number: '-0' }, { $number: 5 }, { $escape: { $number: '-0' } }]) expect(roundTrip(lookalike)).toEqual(lookalike);
  });

  it('rejects array holes with a CODEC error naming the path', async () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    expect(() => codec.encode({ items: sparse })).toThrow('message.items[1]: an array hole');
    const store = new TimelineStore<unknown>({ backend: new MemoryBackend(), table: 't' });
    const error = await store.timeline('a').append({ items: sparse }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('CODEC');
    expect((error as ValidationError).message).toContain('message.items[1]');
    expect(store.backend instanceof MemoryBackend && store.backend.size('t')).toBe(0);
  });

  it('decodes texts written by hand: an own __proto__ key (also escaped) never sets a prototype', () => {
    for (const text of ['{"__proto__":{"a":1}}', '{"__pro\\u0074o__":{"a":1}}', '{"$escape":{"__proto__":{"a":1}}}']) {
      const value = codec.decode(new TextEncoder().encode(text)) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value), text).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, text).toEqual({ a: 1 });
    }
  });
});
