/**
 * The few objects of the official `tablestore` SDK that SDK-shaped params and results are made
 * of: the `INF_MIN` / `INF_MAX` / `PK_AUTO_INCR` markers (empty objects told apart only by
 * identity) and the `int64-buffer` `Int64LE` class behind `TableStore.Long`. The codec is given
 * them instead of loading the SDK itself, so that neither the emulator nor the root entry point
 * ever imports it.
 *
 * @packageDocumentation
 */

/** The SDK objects the codec recognises by identity or `instanceof`: pass the loaded `tablestore` module. */
export interface SdkBinding {
  /** `TableStore.INF_MIN`. */
  readonly INF_MIN: object;
  /** `TableStore.INF_MAX`. */
  readonly INF_MAX: object;
  /** `TableStore.PK_AUTO_INCR`. */
  readonly PK_AUTO_INCR: object;
  /** `TableStore.Long`: `fromNumber(0)` reveals the SDK's `Int64LE` class. */
  readonly Long: { fromNumber(value: number): object };
}

/** An `int64-buffer` `Int64LE` as seen by the codec: eight bytes at `offset` of `buffer`. */
export interface Int64Value {
  readonly buffer: ArrayLike<number>;
  readonly offset: number;
  toBuffer(): Buffer;
}

/** The `Int64LE` constructor: `new Int64LE(eightBytes)` keeps the buffer as it is. */
export type Int64Constructor = new (buffer: Buffer) => Int64Value;

/** The binding with the `Int64LE` class resolved once. */
export interface ResolvedBinding {
  readonly infMin: object;
  readonly infMax: object;
  readonly autoIncrement: object;
  readonly Int64: Int64Constructor;
  readonly longFromNumber: (value: number) => Int64Value;
}

/** Resolves the `Int64LE` class from `TableStore.Long` and checks that the markers are objects. */
export function resolveBinding(sdk: SdkBinding): ResolvedBinding {
  const sample = sdk.Long.fromNumber(0) as Int64Value;
  const Int64 = (sample as object).constructor as Int64Constructor;
  if (typeof Int64 !== 'function' || typeof sample.toBuffer !== 'function') {
    throw new TypeError('Expected `sdk.Long.fromNumber(0)` to return an int64-buffer Int64LE (pass the loaded `tablestore` module)');
  }
  for (const key of ['INF_MIN', 'INF_MAX', 'PK_AUTO_INCR'] as const) {
    if (typeof sdk[key] !== 'object' || sdk[key] === null) throw new TypeError(`Expected \`sdk.${key}\` to be the SDK's marker object`);
  }
  return {
    infMin: sdk.INF_MIN,
    infMax: sdk.INF_MAX,
    autoIncrement: sdk.PK_AUTO_INCR,
    Int64,
    longFromNumber: (value) => sdk.Long.fromNumber(value) as Int64Value,
  };
}

/**
 * Copies the eight bytes of an `Int64LE` into `out` at `at`, as its `toBuffer()` would give them
 * (each element masked to a byte), without allocating a Buffer.
 */
export function writeInt64Bytes(value: Int64Value, out: Buffer, at: number): void {
  const src = value.buffer;
  const off = value.offset | 0;
  for (let i = 0; i < 8; i++) out[at + i] = (src[off + i] as number) & 255;
}
