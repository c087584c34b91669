/**
 * The two functions the wire path needs from a TableStore format codec: a request's body from the
 * same params object the SDK method takes, and an SDK-shaped result from an answer's body.
 *
 * Until the shared codec module lands, {@link sdkCodec} is the stand-in: it runs the official
 * SDK's own encoder and decoder (exposed on the SDK namespace as `encoder` and `decoder`), so the
 * bytes are the SDK's by construction. Switching to another codec changes only what
 * `WireClient` is given.
 *
 * @packageDocumentation
 */

/** The APIs the backend calls, named as in the request path (`/PutRow`). */
export type WireOperation = 'CreateTable' | 'UpdateTable' | 'DescribeTable' | 'PutRow' | 'UpdateRow' | 'DeleteRow' | 'GetRow' | 'GetRange' | 'BatchWriteRow';

/** Encodes requests and decodes answers exactly as the official SDK does. */
export interface WireCodec {
  /** The protobuf body of `op` for SDK-shaped `params`. */
  encodeRequest(op: WireOperation, params: Record<string, unknown>): Buffer;
  /** The result of `op` for a 2xx answer's body, shaped as the SDK's decoder returns it. */
  decodeResponse(op: WireOperation, body: Buffer): Record<string, unknown>;
}

/** The parts of the SDK namespace the stand-in codec uses (`lib/protocol/encoder.js`, `decoder.js`). */
export interface SdkProtocol {
  readonly encoder: { encode(operation: string, params: Record<string, unknown>): object };
  readonly decoder: { decode(operation: string, body: Buffer): Record<string, unknown> };
}

/** The SDK's operation name (`putRow`) for an API name (`PutRow`). */
export function sdkOperation(op: WireOperation): string {
  return op.charAt(0).toLowerCase() + op.slice(1);
}

/**
 * The stand-in codec: the SDK's own encoder and decoder, called as the SDK client calls them
 * (`encoder.encode` gives a protobufjs message, whose class's `encode(...).finish()` is the body).
 */
export function sdkCodec(sdk: SdkProtocol): WireCodec {
  return {
    encodeRequest(op, params) {
      const message = sdk.encoder.encode(sdkOperation(op), params);
      const type = Object.getPrototypeOf(message).constructor as { encode(m: object): { finish(): Uint8Array } };
      const bytes = type.encode(message).finish();
      // protobufjs hands back a Buffer under Node; wrap (without copying) if it ever is not.
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decodeResponse(op, body) {
      return sdk.decoder.decode(sdkOperation(op), body);
    },
  };
}

/**
 * The codec the wire transport runs with (and the differential tests check): the SDK's own
 * encoder and decoder until the shared codec module is in place.
 */
export function wireCodec(sdk: SdkProtocol): WireCodec {
  return sdkCodec(sdk);
}
