/**
 * The two functions the wire path needs from a TableStore format codec: a request's body from the
 * same params object the SDK method takes, and an SDK-shaped result from an answer's body.
 *
 * {@link wireCodec} gives the shared codec module (`src/codec/`), whose bytes and results the
 * differential suites (test/codec, test/wire) compare with the official SDK's own encoder and
 * decoder. Switching codecs changes only what `WireClient` is given.
 *
 * @packageDocumentation
 */
import { createSdkCodec, type SdkBinding, type SdkOperation } from '../../../codec/index.js';

/** The APIs the backend calls, named as in the request path (`/PutRow`). */
export type WireOperation = 'CreateTable' | 'UpdateTable' | 'DescribeTable' | 'PutRow' | 'UpdateRow' | 'DeleteRow' | 'GetRow' | 'GetRange' | 'BatchWriteRow';

/** Encodes requests and decodes answers exactly as the official SDK does. */
export interface WireCodec {
  /** The protobuf body of `op` for SDK-shaped `params`. */
  encodeRequest(op: WireOperation, params: Record<string, unknown>): Buffer;
  /** The result of `op` for a 2xx answer's body, shaped as the SDK's decoder returns it. */
  decodeResponse(op: WireOperation, body: Buffer): Record<string, unknown>;
}

/**
 * The parts of the SDK namespace the wire path's codec needs: its markers (`INF_MIN`, `INF_MAX`,
 * `PK_AUTO_INCR`) and `Long` class, recognised by identity in params and used for decoded
 * INTEGER values, so that the backend's SDK-shaped params and results work unchanged.
 */
export type SdkProtocol = SdkBinding;

/** The SDK's operation name (`putRow`) for an API name (`PutRow`). */
export function sdkOperation(op: WireOperation): SdkOperation {
  return (op.charAt(0).toLowerCase() + op.slice(1)) as SdkOperation;
}

/**
 * The codec the wire transport runs with (and the differential tests check against the SDK's own
 * encoder and decoder): the repository's one implementation of the format, `src/codec/`, the
 * same module the emulator answers with.
 */
export function wireCodec(sdk: SdkProtocol): WireCodec {
  const shared = createSdkCodec(sdk);
  return {
    encodeRequest: (op, params) => shared.encodeRequest(sdkOperation(op), params),
    decodeResponse: (op, body) => shared.decodeResponse(sdkOperation(op), body) as Record<string, unknown>,
  };
}
