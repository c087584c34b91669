import { describe, expect, it } from 'vitest';
import { classifyCode, decodeSdkError } from '../../src/backends/tablestore/index.js';
import { parseErrorBody, readKind } from '../../src/backends/tablestore/errors.js';

/** A protobuf `Error{code, message}` body. */
function errorBody(code: string, message?: string): Buffer {
  const field = (tag: number, value: string): Buffer => {
    const bytes = Buffer.from(value, 'utf8');
    const length: number[] = [];
    let n = bytes.length;
    do {
      length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    return Buffer.concat([Buffer.from([tag, ...length]), bytes]);
  };
  return Buffer.concat([field(0x0a, code), ...(message === undefined ? [] : [field(0x12, message)])]);
}

/** An error exactly as `tablestore@5.6.5` builds it for a non-2xx answer (see its `extractError`). */
function sdkHttpError(status: number, body: Buffer, requestId = 'req-123'): Error {
  return Object.assign(new Error(), {
    code: status,
    message: `${body.toString()} requestId:${requestId}`,
    headers: { 'x-ots-requestid': requestId },
  });
}

describe('decodeSdkError', () => {
  it('recovers the OTS code, message, status and request id the SDK loses', () => {
    const decoded = decodeSdkError(sdkHttpError(503, errorBody('OTSServerBusy', 'Server is busy.')));
    expect(decoded).toEqual({ code: 'OTSServerBusy', message: 'Server is busy.', status: 503, requestId: 'req-123', kind: 'retryable', notSent: false });
  });

  it('finds the code when a message over 127 bytes mangled the protobuf framing', () => {
    const long = `Invalid column name: ${'x'.repeat(200)}.`;
    const decoded = decodeSdkError(sdkHttpError(400, errorBody('OTSParameterInvalid', long)));
    expect(decoded.code).toBe('OTSParameterInvalid');
    expect(decoded.message).toContain('Invalid column name');
    expect(decoded.kind).toBe('fatal');
    expect(decoded.status).toBe(400);
  });

  it('takes the request id from the message when the headers lack it', () => {
    const error = Object.assign(new Error(), { code: 500, message: `${errorBody('OTSInternalServerError', 'oops').toString()} requestId:abc-1` });
    expect(decodeSdkError(error)).toMatchObject({ code: 'OTSInternalServerError', requestId: 'abc-1', status: 500, kind: 'ambiguous' });
  });

  it('handles an empty 4xx body (the SDK names the status instead)', () => {
    const error = Object.assign(new Error(), { code: 'Forbidden', message: 'req-9', headers: { 'x-ots-requestid': 'req-9' } });
    expect(decodeSdkError(error)).toMatchObject({ code: 'Forbidden', status: 403, requestId: 'req-9', kind: 'fatal' });
  });

  it('treats a 5xx without an OTS code as ambiguous', () => {
    expect(decodeSdkError(sdkHttpError(502, Buffer.from('<html>Bad Gateway</html>')))).toMatchObject({ code: '502', status: 502, kind: 'ambiguous' });
  });

  it('classifies network errors: refused connections were never sent, others are ambiguous', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'NetworkingError', retryable: true });
    expect(decodeSdkError(refused)).toMatchObject({ code: 'NetworkingError', kind: 'retryable', notSent: true });
    const reset = Object.assign(new Error('socket hang up'), { code: 'NetworkingError' });
    expect(decodeSdkError(reset)).toMatchObject({ code: 'NetworkingError', kind: 'ambiguous', notSent: false });
    const timeout = Object.assign(new Error('Connection timed out after 10000ms'), { code: 'NetworkingError' });
    expect(decodeSdkError(timeout)).toMatchObject({ code: 'TimeoutError', kind: 'ambiguous' });
  });

  it.each([
    'self-signed certificate',
    'self-signed certificate in certificate chain',
    'unable to verify the first certificate',
    'unable to get local issuer certificate',
    'certificate has expired',
    "Hostname/IP does not match certificate's altnames: Host: example.com. is not in the cert's altnames: DNS:localhost",
  ])('a refused server certificate (%s) was never sent: retryable only once fixed, like a refused connection', (message) => {
    const error = Object.assign(new Error(message), { code: 'NetworkingError', retryable: true });
    expect(decodeSdkError(error)).toMatchObject({ code: 'NetworkingError', kind: 'retryable', notSent: true });
  });

  it('keeps other TLS failures after the handshake ambiguous', () => {
    const error = Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), { code: 'NetworkingError' });
    expect(decodeSdkError(error)).toMatchObject({ kind: 'ambiguous', notSent: false });
  });

  it('treats local exceptions as ambiguous for writes and fatal for reads', () => {
    const decoded = decodeSdkError(new TypeError('Unsupported primary key type: object'));
    expect(decoded).toMatchObject({ code: 'ClientError', kind: 'ambiguous' });
    expect(readKind(decoded)).toBe('fatal');
  });
});

describe('classifyCode', () => {
  it.each([
    ['OTSRowOperationConflict', 'retryable'],
    ['OTSNotEnoughCapacityUnit', 'retryable'],
    ['OTSTableNotReady', 'retryable'],
    ['OTSPartitionUnavailable', 'retryable'],
    ['OTSServerBusy', 'retryable'],
    ['OTSStorageServerBusy', 'retryable'],
    ['OTSTimeout', 'ambiguous'],
    ['OTSInternalServerError', 'ambiguous'],
    ['OTSServerUnavailable', 'ambiguous'],
    ['OTSParameterInvalid', 'fatal'],
    ['OTSConditionCheckFail', 'fatal'],
    ['OTSRequestBodyTooLarge', 'fatal'],
    ['OTSInvalidPK', 'fatal'],
    ['OTSOutOfColumnCountLimit', 'fatal'],
    ['OTSOutOfRowSizeLimit', 'fatal'],
    ['OTSObjectNotExist', 'fatal'],
    ['OTSAuthFailed', 'fatal'],
  ] as const)('%s is %s', (code, kind) => {
    expect(classifyCode(code)).toBe(kind);
  });

  it('retries OTSQuotaExhausted only for "Too frequent table operations."', () => {
    expect(classifyCode('OTSQuotaExhausted', 'Too frequent table operations.')).toBe('retryable');
    expect(classifyCode('OTSQuotaExhausted', 'Storage quota exhausted.')).toBe('fatal');
  });

  it('reads retry the ambiguous codes', () => {
    expect(readKind({ code: 'OTSTimeout', message: '', status: 503, requestId: undefined, kind: 'ambiguous', notSent: false })).toBe('retryable');
  });
});

describe('parseErrorBody', () => {
  it('parses code and message, and rejects other bytes', () => {
    expect(parseErrorBody(errorBody('OTSTimeout', 'Operation timeout.'))).toEqual({ code: 'OTSTimeout', message: 'Operation timeout.' });
    expect(parseErrorBody(errorBody('OTSTimeout'))).toEqual({ code: 'OTSTimeout', message: '' });
    expect(parseErrorBody(Buffer.from('<Error/>'))).toBeUndefined();
    expect(parseErrorBody(Buffer.from([0x0a, 0x50, 0x41]))).toBeUndefined();
  });
});
