/**
 * Decoding of the TableStore SDK's errors and the service's retryability rules.
 *
 * The Node SDK (5.6.5) loses the service's error code: it hands back `code` = the HTTP status and
 * `message` = the raw protobuf `Error{code, message}` body read as UTF-8, plus `" requestId:…"`.
 * {@link decodeSdkError} recovers the OTS code from those bytes so that retries can follow the
 * service's documented rules and callers see `backendCode: 'OTSServerBusy'` instead of `503`.
 *
 * @packageDocumentation
 */

/**
 * How an error may be retried.
 *
 * - `retryable`: the service rejected the request without applying it; re-sending is safe.
 * - `ambiguous`: the request may or may not have been applied (timeouts, 5xx, dropped
 *   connections). Reads retry it; a write must first find out whether it was applied.
 * - `fatal`: repeating the same request fails the same way.
 */
export type ErrorKind = 'retryable' | 'ambiguous' | 'fatal';

/** What {@link decodeSdkError} recovers from an SDK error. */
export interface DecodedError {
  /** The OTS code (e.g. `'OTSServerBusy'`), `'NetworkingError'`, or the HTTP status as a string when the body had no code. */
  readonly code: string;
  /** The service's message, or the local error's message. */
  readonly message: string;
  /** The HTTP status, when the service answered. */
  readonly status: number | undefined;
  /** The service's request id, when the service answered. */
  readonly requestId: string | undefined;
  /** How this error may be retried (for a write; reads also retry `ambiguous`). */
  readonly kind: ErrorKind;
  /** True when the request certainly never reached the service (e.g. connection refused). */
  readonly notSent: boolean;
}

/** Codes the service defines as safe to retry for every API: the request was not applied. */
export const ALWAYS_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'OTSRowOperationConflict',
  'OTSNotEnoughCapacityUnit',
  'OTSTableNotReady',
  'OTSPartitionUnavailable',
  'OTSServerBusy',
  'OTSStorageServerBusy',
  'OTSOperationThrottled',
]);

/** Codes after which a write may or may not have been applied; reads retry them. */
export const AMBIGUOUS_CODES: ReadonlySet<string> = new Set([
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSServerUnavailable',
  'NetworkingError',
  'TimeoutError',
]);

/** The one retryable form of `OTSQuotaExhausted`; any other message is a real quota. */
const TOO_FREQUENT = 'Too frequent table operations.';

// Network failures that happen before a single byte reaches the service.
const NOT_SENT = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH)\b/;

/**
 * Node's messages (from OpenSSL) for a server certificate the client refused during the TLS
 * handshake: the request itself was never sent, and retrying will not change the certificate.
 */
export const CERTIFICATE_REFUSED =
  /self[- ]signed certificate|unable to (verify the first|get (local )?issuer) certificate|certificate (has expired|is not yet valid|has been revoked|revoked|signature failure)|does not match certificate's altnames/i;

// The SDK's names for empty-bodied 4xx answers.
const STATUS_NAMES: Readonly<Record<string, number>> = { NotModified: 304, BadRequest: 400, Forbidden: 403, NotFound: 404 };

/** Classifies an OTS code (with its message and HTTP status) by the service's retry rules. */
export function classifyCode(code: string, message = '', status?: number): ErrorKind {
  if (ALWAYS_RETRYABLE_CODES.has(code)) return 'retryable';
  if (code === 'OTSQuotaExhausted') return message.trim() === TOO_FREQUENT ? 'retryable' : 'fatal';
  if (AMBIGUOUS_CODES.has(code)) return 'ambiguous';
  if (code.startsWith('OTS')) return 'fatal';
  // No OTS code: fall back on the HTTP status. A 5xx without a body may have been applied.
  if (status !== undefined && status >= 500) return 'ambiguous';
  return 'fatal';
}

function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < bytes.length && shift <= 28; i++) {
    const byte = bytes[i]!;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value: value >>> 0, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

/**
 * Parses a protobuf `Error{ required string code = 1; optional string message = 2; }` body.
 * Returns undefined when the bytes are not such a message.
 */
export function parseErrorBody(bytes: Uint8Array): { code: string; message: string } | undefined {
  const text = new TextDecoder();
  let code: string | undefined;
  let message = '';
  let offset = 0;
  while (offset < bytes.length) {
    const tag = bytes[offset]!;
    if (tag !== 0x0a && tag !== 0x12) return undefined;
    const length = readVarint(bytes, offset + 1);
    if (length === undefined || length.next + length.value > bytes.length) return undefined;
    const value = text.decode(bytes.subarray(length.next, length.next + length.value));
    if (tag === 0x0a) code = value;
    else message = value;
    offset = length.next + length.value;
  }
  return code !== undefined && /^[A-Za-z][\w.]*$/.test(code) ? { code, message } : undefined;
}

/**
 * Recovers the OTS error code, message, status and request id from an error thrown by the SDK.
 *
 * The SDK reads the protobuf body as UTF-8, so bytes above 0x7F (e.g. the length of a message over
 * 127 bytes) come back mangled; the code itself is short ASCII and survives. When the bytes no
 * longer parse, the code is found by pattern (`OTS…`).
 */
export function decodeSdkError(error: unknown): DecodedError {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; headers?: Record<string, unknown> };
  const headers = e.headers ?? {};
  const headerId = headers['x-ots-requestid'] ?? headers['x-ots-request-id'];
  const rawMessage = typeof e.message === 'string' ? e.message : String(error);

  if (typeof e.code === 'number' || (typeof e.code === 'string' && STATUS_NAMES[e.code] !== undefined)) {
    const status = typeof e.code === 'number' ? e.code : STATUS_NAMES[e.code as string]!;
    // The SDK appends " requestId:<id>" to the body it read as text.
    const marker = rawMessage.lastIndexOf(' requestId:');
    const body = marker >= 0 ? rawMessage.slice(0, marker) : rawMessage;
    const idFromMessage = marker >= 0 ? rawMessage.slice(marker + ' requestId:'.length).trim() : undefined;
    const requestId = typeof headerId === 'string' && headerId !== '' ? headerId : idFromMessage || undefined;
    if (typeof e.code === 'string') {
      // Empty body: the SDK put the request id in the message.
      return { code: e.code, message: `HTTP ${status}`, status, requestId: requestId ?? (rawMessage || undefined), kind: classifyCode(e.code, '', status), notSent: false };
    }
    const parsed = parseErrorBody(Buffer.from(body, 'utf8'));
    let code: string;
    let message: string;
    if (parsed !== undefined) {
      ({ code, message } = parsed);
    } else {
      const match = /OTS[A-Za-z]+/.exec(body);
      code = match?.[0] ?? String(status);
      // Drop the protobuf framing bytes around the readable text.
      // eslint-disable-next-line no-control-regex
      message = (match ? body.slice(match.index + match[0].length) : body).replace(/[\x00-\x1f\ufffd]+/g, ' ').trim();
    }
    return { code, message, status, requestId, kind: classifyCode(code, message, status), notSent: false };
  }

  if (e.code === 'NetworkingError' || e.code === 'TimeoutError') {
    // The SDK keeps Node's message (e.g. "connect ECONNREFUSED 127.0.0.1:8800") but overwrites its code.
    const refused = NOT_SENT.test(rawMessage) || CERTIFICATE_REFUSED.test(rawMessage);
    return {
      code: /timed out/i.test(rawMessage) ? 'TimeoutError' : 'NetworkingError',
      message: rawMessage,
      status: undefined,
      requestId: undefined,
      // A connection that was never opened carried no request: plainly retryable.
      kind: refused ? 'retryable' : 'ambiguous',
      notSent: refused,
    };
  }

  // Anything else was raised locally (an SDK encoder/decoder exception, a bug). For a write it may
  // have happened after the service applied the request (a response it could not decode), so it is
  // treated as ambiguous; reads do not retry it (see readKind).
  return { code: 'ClientError', message: rawMessage, status: undefined, requestId: undefined, kind: 'ambiguous', notSent: false };
}

/** The retry class of a decoded error for a read: ambiguous errors are safe to retry, local ones are not. */
export function readKind(decoded: DecodedError): ErrorKind {
  if (decoded.code === 'ClientError') return 'fatal';
  return decoded.kind === 'ambiguous' ? 'retryable' : decoded.kind;
}
