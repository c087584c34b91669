import { describe, expect, it } from 'vitest';
import { CodecValueError, jsonCodec } from '../../src/index.js';

describe('jsonCodec', () => {
  const codec = jsonCodec<unknown>();
  const roundTrip = (value: unknown) => codec.decode(codec.encode(value));

  it('round-trips JSON values and bigint exactly, including beyond 2^53 and negative', () => {
    const value = {
      text: 'héllo 👋',
      n: 1.5,
      ok: true,
      none: null,
      list: [1, 'two', [3n]],
      big: 2n ** 63n - 1n,
      negative: -(2n ** 64n) - 1n,
      nested: { deeper: { amount: 9007199254740993n } },
    };
    expect(roundTrip(value)).toEqual(value);
    expect(roundTrip(12345678901234567890n)).toBe(12345678901234567890n);
  });

  it('keeps user objects that look like its own tags intact', () => {
    const lookalikes = [{ $bigint: '12' }, { $escape: { a: 1 } }, { $escape: { $bigint: '1' } }, { $bigint: 5 }, { $bigint: '1', other: 2 }];
    for (const value of lookalikes) expect(roundTrip(value)).toEqual(value);
    expect(roundTrip({ wrapped: { $bigint: 'x', $escape: 1 } })).toEqual({ wrapped: { $bigint: 'x', $escape: 1 } });
  });

  it('drops undefined object properties (reads the same) but rejects undefined in arrays', () => {
    expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 });
    expect(() => codec.encode([undefined])).toThrow(CodecValueError);
  });

  it('rejects values JSON would silently alter, with the path', () => {
    expect(() => codec.encode({ a: [0, { b: Number.NaN }] })).toThrow('message.a[1].b: the number NaN');
    expect(() => codec.encode(new Date(0))).toThrow('message: a Date instance');
    expect(() => codec.encode({ s: new Set() })).toThrow('message.s: a Set instance');
    expect(() => codec.encode({ s: Symbol('x') })).toThrow('message.s: a symbol');
    expect(() => codec.encode(new Uint8Array(1))).toThrow('a Uint8Array instance');
  });

  it('accepts repeated (non-circular) references', () => {
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('accepts null-prototype objects', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 'v';
    expect(roundTrip(bare)).toEqual({ k: 'v' });
  });

  it('rejects malformed payloads on decode', () => {
    const bytes = new TextEncoder().encode('{"$bigint":"12x"}');
    expect(() => codec.decode(bytes)).toThrow(/malformed/);
    expect(() => codec.decode(new Uint8Array([0xff, 0xfe]))).toThrow();
  });
});
