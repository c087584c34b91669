/**
 * The headers of one request, built and signed exactly as the official Node SDK 5.x builds them
 * (lib/client.js, lib/event_listeners.js, lib/signer.js): same names, same values, same order.
 *
 * @packageDocumentation
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** The API version every request names. */
export const API_VERSION = '2015-12-31';

/** What signing needs to know about the connection. */
export interface SigningIdentity {
  /** The `Host` header: the endpoint's host name *without* the port, as the SDK sends it. */
  readonly host: string;
  readonly instanceName: string;
  readonly accessKeyId: string;
  /** The access key secret as an HMAC key (see {@link signingKey}). */
  readonly key: KeyObject;
  readonly stsToken?: string | undefined;
}

/**
 * The HMAC key of an access key secret, made once per client: `createHmac` with a string key
 * would convert and check it again on every request. (Node's `createHmac` reads a string key as
 * UTF-8, as the SDK passes it.)
 */
export function signingKey(accessKeySecret: string): KeyObject {
  return createSecretKey(Buffer.from(accessKeySecret, 'utf8'));
}

/**
 * The headers of a request to `path` (e.g. `/PutRow`) with `body`, signed at `date`.
 *
 * The SDK builds them in this order (Node writes them in insertion order): `x-ots-apiversion`,
 * `x-ots-instancename`, `x-ots-contentmd5`, `Content-Length`, `Host`, `x-ots-date`,
 * `x-ots-accesskeyid`, `x-ots-ststoken` (temporary credentials only), `x-ots-signature`. The
 * signature is the base64 HMAC-SHA1, under the secret, of the path, `POST`, an empty line and the
 * `x-ots-*` headers as sorted `name:value` lines. It sends no User-Agent or Content-Type.
 */
export function signedHeaders(identity: SigningIdentity, path: string, body: Buffer, date: Date): Record<string, string> {
  const md5 = createHash('md5').update(body).digest('base64');
  const isoDate = date.toISOString();
  const sts = identity.stsToken ? identity.stsToken : undefined;
  // The sorted x-ots-* names are fixed (accesskeyid < apiversion < contentmd5 < date <
  // instancename < ststoken), so the canonical string is built directly instead of sorting.
  const canonical =
    `x-ots-accesskeyid:${identity.accessKeyId}\nx-ots-apiversion:${API_VERSION}\nx-ots-contentmd5:${md5}\n` +
    `x-ots-date:${isoDate}\nx-ots-instancename:${identity.instanceName}${sts === undefined ? '' : `\nx-ots-ststoken:${sts}`}`;
  const signature = createHmac('sha1', identity.key).update(`${path}\nPOST\n\n${canonical}\n`, 'utf8').digest('base64');
  const headers: Record<string, string> = {
    'x-ots-apiversion': API_VERSION,
    'x-ots-instancename': identity.instanceName,
    'x-ots-contentmd5': md5,
    'Content-Length': String(body.length),
    Host: identity.host,
    'x-ots-date': isoDate,
    'x-ots-accesskeyid': identity.accessKeyId,
  };
  if (sts !== undefined) headers['x-ots-ststoken'] = sts;
  headers['x-ots-signature'] = signature;
  return headers;
}
