/**
 * Request authentication as the service does it: required headers, body MD5, instance name and
 * the HMAC-SHA1 signature over the path, method and sorted `x-ots-*` headers.
 *
 * @packageDocumentation
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { invalid, OtsError } from './errors.js';

/** The protocol version the emulator speaks. */
export const API_VERSION = '2015-12-31';

const REQUIRED = ['x-ots-date', 'x-ots-apiversion', 'x-ots-accesskeyid', 'x-ots-contentmd5', 'x-ots-signature', 'x-ots-instancename'] as const;

/** Credentials and instances a request must match. */
export interface Credentials {
  /** Accepted instance names; `'*'` accepts any. */
  readonly instanceNames: readonly string[];
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The string the client signs: path, method, an empty line, then `name:value` lines of the sorted `x-ots-*` headers. */
export function stringToSign(path: string, method: string, headers: IncomingHttpHeaders): string {
  // One pass and one small sort per request, no intermediate arrays of every header.
  const names: string[] = [];
  for (const key in headers) {
    const n = key.toLowerCase();
    if (n.startsWith('x-ots-') && n !== 'x-ots-signature') names.push(n);
  }
  names.sort();
  let out = `${path}\n${method}\n\n`;
  for (const n of names) out += `${n}:${header(headers, n) ?? ''}\n`;
  return out;
}

/** Base64 HMAC-SHA1 signature of `stringToSign` under `secret`. */
export function sign(secret: string, toSign: string): string {
  return createHmac('sha1', secret).update(toSign, 'utf8').digest('base64');
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verifies one API request and returns the instance it addresses.
 *
 * @throws {@link OtsError} `400 OTSParameterInvalid` for a missing or malformed header, `403 OTSAuthFailed` otherwise.
 */
export function verifyRequest(path: string, method: string, headers: IncomingHttpHeaders, body: Buffer, creds: Credentials): string {
  for (const name of REQUIRED) {
    if (header(headers, name) === undefined) throw invalid(`Missing header: '${name}'.`);
  }
  const version = header(headers, 'x-ots-apiversion');
  if (version !== API_VERSION) throw invalid(`Unsupported API version: '${version}'; the emulator speaks ${API_VERSION}.`);
  const date = header(headers, 'x-ots-date') ?? '';
  if (Number.isNaN(Date.parse(date))) throw invalid(`Invalid date format: ${date}.`);
  const instance = header(headers, 'x-ots-instancename') ?? '';
  if (instance === '' || (!creds.instanceNames.includes(instance) && !creds.instanceNames.includes('*'))) {
    throw new OtsError('OTSAuthFailed', `The instance is not found: '${instance}' (the emulator serves ${creds.instanceNames.map((n) => `'${n}'`).join(', ')}).`);
  }
  if (header(headers, 'x-ots-accesskeyid') !== creds.accessKeyId) throw new OtsError('OTSAuthFailed', 'The AccessKeyID does not exist.');
  // One-shot hashing: no Hash object per request.
  const md5 = hash('md5', body, 'base64');
  if (!sameString(md5, header(headers, 'x-ots-contentmd5') ?? '')) {
    throw new OtsError('OTSAuthFailed', 'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');
  }
  const expected = sign(creds.accessKeySecret, stringToSign(path, method, headers));
  if (!sameString(expected, header(headers, 'x-ots-signature') ?? '')) throw new OtsError('OTSAuthFailed', 'Signature mismatch.');
  return instance;
}

/** The value of `x-ots-contenttype` on every API answer, as the service sends it. */
export const RESPONSE_CONTENT_TYPE = 'protocol buffer';

/**
 * The string the service signs in a response: the sorted lowercase `x-ots-*` response headers as
 * `name:value` lines joined by `"\n"`, then `"\n"` and the request path (e.g. `/PutRow`). The
 * Python, Java, Go, PHP and .NET SDKs recompute it and refuse an answer whose signature differs.
 */
export function responseStringToSign(path: string, headers: Readonly<Record<string, string>>): string {
  const lines = Object.keys(headers)
    .filter((n) => n.startsWith('x-ots-'))
    .sort()
    .map((n) => `${n}:${(headers[n] ?? '').trim()}`);
  return `${lines.join('\n')}\n${path}`;
}

/** `x-ots-date` as the service writes it: ISO 8601 UTC with microseconds. */
export function otsDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}000Z`;
}

/**
 * The headers of an API answer: body MD5, date, request id, content type, and the
 * `Authorization: OTS <accessKeyId>:<signature>` header signed with the emulator's secret.
 */
export function responseHeaders(path: string, body: Buffer, requestId: string, creds: Pick<Credentials, 'accessKeyId' | 'accessKeySecret'>, nowMs: number): Record<string, string> {
  const md5 = hash('md5', body, 'base64');
  const date = otsDate(nowMs);
  // The four x-ots-* headers in sorted order, exactly as responseStringToSign lays them out
  // (the response-signature tests compare the two): no key listing and sorting per answer.
  const toSign = `x-ots-contentmd5:${md5}\nx-ots-contenttype:${RESPONSE_CONTENT_TYPE}\nx-ots-date:${date}\nx-ots-requestid:${requestId}\n${path}`;
  return {
    'x-ots-contentmd5': md5,
    'x-ots-contenttype': RESPONSE_CONTENT_TYPE,
    'x-ots-date': date,
    'x-ots-requestid': requestId,
    authorization: `OTS ${creds.accessKeyId}:${sign(creds.accessKeySecret, toSign)}`,
  };
}
