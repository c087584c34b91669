/**
 * The repository's one implementation of TableStore's wire format (internal; not a public
 * subpath). The emulator uses the format modules directly; a client uses {@link createSdkCodec},
 * whose requests and results are those of the official Node SDK, byte for byte and field for field.
 *
 * @packageDocumentation
 */
import { resolveBinding, type SdkBinding } from './sdk-binding.js';
import { SdkPlainBufferEncoder } from './sdk-plain-buffer.js';
import { encodeSdkRequest, type SdkOperation } from './sdk-requests.js';
import { decodeSdkResponse } from './sdk-responses.js';
import { SdkRowReader } from './sdk-rows.js';

export type { SdkBinding } from './sdk-binding.js';
export type { SdkOperation } from './sdk-requests.js';
export type { ProtoLong } from './sdk-responses.js';
export type { SdkAttrCell, SdkPkCell, SdkRowShape } from './sdk-rows.js';
export { decodeError } from './sdk-responses.js';

/** Encodes SDK-shaped requests and decodes responses into SDK-shaped results. */
export interface SdkCodec {
  /**
   * The body the SDK would send for `client[op](params)`: the same bytes (so the same MD5 and
   * signature). Attribute cells repeated across the rows of one request are encoded once.
   *
   * @throws Error where the SDK's encoder throws (bad params), with a message saying what was wrong.
   */
  encodeRequest(op: SdkOperation, params: Record<string, unknown>): Buffer;
  /** The result the SDK's decoder gives for a success body of `op` (before the SDK adds `RequestId`). */
  decodeResponse(op: SdkOperation, body: Buffer): any;
}

/**
 * Creates a codec for one loaded SDK (its markers and `Long` class). Not re-entrant across
 * threads, but calls are synchronous, so one codec serves a whole process.
 *
 * @example
 * ```ts
 * const TableStore = require('tablestore');
 * const codec = createSdkCodec(TableStore);
 * const body = codec.encodeRequest('putRow', { tableName: 't', condition, primaryKey, attributeColumns });
 * ```
 */
export function createSdkCodec(sdk: SdkBinding): SdkCodec {
  const binding = resolveBinding(sdk);
  const rows = new SdkPlainBufferEncoder(binding);
  const reader = new SdkRowReader(binding.Int64);
  return {
    encodeRequest(op, params) {
      rows.startRequest();
      return encodeSdkRequest(op, params, rows);
    },
    decodeResponse(op, body) {
      return decodeSdkResponse(op, body, reader);
    },
  };
}
