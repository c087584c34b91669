/**
 * The official SDK's own encoder and decoder, used as the oracle of the differential tests, and
 * a normaliser that makes SDK results (protobufjs messages whose absent fields are read from the
 * prototype, `Long`s, `Int64LE`s) comparable with the codec's plain objects.
 */
import { createSdkCodec, type SdkCodec, type SdkOperation } from '../../src/codec/index.js';
import { TableStore } from '../emulator/sdk.js';

interface SdkProtocol {
  encoder: { encode(op: string, params: unknown): object };
  decoder: { decode(op: string, body: Buffer): unknown };
}

const protocol = TableStore as unknown as SdkProtocol;

/** The codec under test, bound to the real SDK. */
export const codec: SdkCodec = createSdkCodec(TableStore);

/** The body the SDK's client would send for `client[op](params)` (its `buildContent` step). */
export function sdkEncode(op: SdkOperation, params: Record<string, unknown>): Buffer {
  const request = protocol.encoder.encode(op, params) as { constructor: { encode(m: object): { finish(): Uint8Array } } };
  const ctor = Object.getPrototypeOf(request).constructor as { encode(m: object): { finish(): Uint8Array } };
  return Buffer.from(ctor.encode(request).finish());
}

/** The SDK decoder's result for a response body. */
export function sdkDecode(op: SdkOperation, body: Buffer): unknown {
  return protocol.decoder.decode(op, body);
}

const Int64Class = (TableStore.Long.fromNumber(0) as object).constructor as new (...args: unknown[]) => { toString(r?: number): string };

/**
 * A comparable form: Int64LE → `{ int64: decimal }` (and must be the SDK's class), Buffer →
 * `{ bytes: hex }`, protobufjs Long → `{ long: [low, high, unsigned] }`, objects with every
 * enumerable field including prototype defaults, functions dropped.
 */
export function normalise(v: unknown): unknown {
  if (v === null || v === undefined || typeof v !== 'object') return v;
  if (v instanceof Int64Class) return { int64: v.toString(10) };
  if (Buffer.isBuffer(v)) return { bytes: v.toString('hex') };
  if (Array.isArray(v)) return v.map(normalise);
  const o = v as Record<string, unknown>;
  if (typeof o.low === 'number' && typeof o.high === 'number' && typeof o.unsigned === 'boolean') return { long: [o.low, o.high, o.unsigned] };
  const out: Record<string, unknown> = {};
  for (const k in o) {
    if (typeof o[k] === 'function') continue;
    out[k] = normalise(o[k]);
  }
  return out;
}
