/**
 * The headers of one request, built and signed exactly as the official Node SDK 5.x builds them
 * (lib/client.js, lib/event_listeners.js, lib/signer.js): same names, same values, same order.
 *
 * The SDK builds them in this order (Node writes them in insertion order): `x-ots-apiversion`,
 * `x-ots-instancename`, `x-ots-contentmd5`, `Content-Length`, `Host`, `x-ots-date`,
 * `x-ots-accesskeyid`, `x-ots-ststoken` (temporary credentials only), `x-ots-signature`. The
 * signature is the base64 HMAC-SHA1, under the secret, of the path, `POST`, an empty line and the
 * `x-ots-*` headers as sorted `name:value` lines. It sends no User-Agent or Content-Type.
 *
 * {@link RequestSigner} lays out that header block directly in front of the body, from text
 * prepared once per client and API, with one-shot hashes: the wire path's per-request work.
 * (test/wire/support.ts keeps the straightforward record-building construction as the reference
 * its tests compare with; test/wire/requests.test.ts compares the bytes with the SDK's own.)
 *
 * @packageDocumentation
 */
import { hash } from 'node:crypto';
import { invalidHeaderError, isInvalidHeaderValue } from './http-pool.js';

/** The API version every request names. */
export const API_VERSION = '2015-12-31';

/** What signing needs to know about the connection. */
export interface SigningIdentity {
  /** The `Host` header: the endpoint's host name *without* the port, as the SDK sends it. */
  readonly host: string;
  readonly instanceName: string;
  readonly accessKeyId: string;
  /** The access key secret, read as UTF-8 (as the SDK passes it to `createHmac`). */
  readonly accessKeySecret: string;
  readonly stsToken?: string | undefined;
}

// SHA-1's block size: HMAC pads the key to it.
const BLOCK = 64;

/**
 * HMAC-SHA1 with the key's pads computed once (RFC 2104: H((K ^ opad) || H((K ^ ipad) || m))),
 * each hash a one-shot `crypto.hash` into reused buffers: `createHmac` builds a native object, looks
 * up the digest by name and imports the key on every request.
 */
export class HmacSha1 {
  readonly #outer: Buffer;
  #inner: Buffer;

  /** @param secret The key as UTF-8 text (as the SDK passes the access key secret to `createHmac`). */
  constructor(secret: string) {
    const utf8 = Buffer.from(secret, 'utf8');
    // A key longer than the block is replaced by its digest.
    const key: Buffer = utf8.length > BLOCK ? hash('sha1', utf8, 'buffer') : utf8;
    const inner = Buffer.alloc(BLOCK + 1024);
    this.#outer = Buffer.alloc(BLOCK + 20);
    for (let i = 0; i < BLOCK; i++) {
      const k = i < key.length ? key[i]! : 0;
      inner[i] = k ^ 0x36;
      this.#outer[i] = k ^ 0x5c;
    }
    this.#inner = inner;
  }

  /** The base64 HMAC of `message` read as UTF-8. */
  base64(message: string): string {
    let inner = this.#inner;
    const most = Buffer.byteLength(message, 'utf8');
    if (BLOCK + most > inner.length) {
      const grown = Buffer.alloc(BLOCK + most);
      inner.copy(grown, 0, 0, BLOCK);
      this.#inner = inner = grown;
    }
    const written = inner.write(message, BLOCK, 'utf8');
    const digest = hash('sha1', inner.subarray(0, BLOCK + written), 'buffer');
    digest.copy(this.#outer, BLOCK);
    return hash('sha1', this.#outer, 'base64');
  }
}

/** The text of one API's requests that is the same for every request of a client. */
interface Template {
  /** Canonical string up to the MD5: path, method, empty line, the x-ots-* headers before it. */
  readonly signBeforeMd5: string;
  /** Canonical string after the date: the instance name (and STS token) lines. */
  readonly signAfterDate: string;
  /** The request line and the headers before the MD5's value. */
  readonly headBeforeMd5: string;
  /** Between the date and the signature's value: the access key id (and STS token) headers. */
  readonly headAfterDate: string;
}

/**
 * Lays out requests of one client: the header block as the SDK builds it (and `node:http` writes
 * it, `Connection: keep-alive` last) followed by the body, in one buffer. Only the MD5,
 * the length, the date and the signature change from one request to the next; the rest is
 * prepared once per API.
 */
export class RequestSigner {
  readonly #host: string;
  readonly #instanceName: string;
  readonly #accessKeyId: string;
  readonly #sts: string | undefined;
  readonly #hmac: HmacSha1;
  readonly #templates = new Map<string, Template>();
  /** The first header Node would refuse, in the order they are written; undefined when none. */
  readonly #invalid: string | undefined;

  /**
   * @param identity The connection's settings, with the access key secret as text (read as UTF-8,
   *   as the SDK passes it to `createHmac`). Checked here once for characters Node refuses in a
   *   header; such a setting makes every {@link RequestSigner.message} throw.
   */
  constructor(identity: SigningIdentity) {
    this.#host = identity.host;
    this.#instanceName = identity.instanceName;
    this.#accessKeyId = identity.accessKeyId;
    this.#sts = identity.stsToken ? identity.stsToken : undefined;
    this.#hmac = new HmacSha1(identity.accessKeySecret);
    const checked: [string, string | undefined][] = [
      ['x-ots-instancename', this.#instanceName],
      ['Host', this.#host],
      ['x-ots-accesskeyid', this.#accessKeyId],
      ['x-ots-ststoken', this.#sts],
    ];
    this.#invalid = checked.find(([, value]) => value !== undefined && isInvalidHeaderValue(value))?.[0];
  }

  /**
   * The request to `path` (e.g. `/PutRow`) with `body`, signed at `time` (ms since the epoch): the
   * header block and the body in one buffer.
   * @throws {TypeError} with code `ERR_INVALID_CHAR` when a setting holds a character Node would
   *   refuse in a header (e.g. a line break), as `node:http` throws when the SDK sets it.
   */
  message(path: string, body: Buffer, time: number): Buffer {
    if (this.#invalid !== undefined) throw invalidHeaderError(this.#invalid);
    const t = this.#templates.get(path) ?? this.#template(path);
    const md5 = hash('md5', body, 'base64');
    const date = new Date(time).toISOString();
    const signature = this.#hmac.base64(`${t.signBeforeMd5}${md5}\nx-ots-date:${date}${t.signAfterDate}`);
    const head = `${t.headBeforeMd5}${md5}\r\nContent-Length: ${body.length}\r\nHost: ${this.#host}\r\nx-ots-date: ${date}${t.headAfterDate}${signature}\r\nConnection: keep-alive\r\n\r\n`;
    // Header values are written as Latin-1, as node:http writes them: one byte per character.
    const message = Buffer.allocUnsafe(head.length + body.length);
    message.write(head, 0, 'latin1');
    body.copy(message, head.length);
    return message;
  }

  #template(path: string): Template {
    const sts = this.#sts;
    const template: Template = {
      signBeforeMd5: `${path}\nPOST\n\nx-ots-accesskeyid:${this.#accessKeyId}\nx-ots-apiversion:${API_VERSION}\nx-ots-contentmd5:`,
      signAfterDate: `\nx-ots-instancename:${this.#instanceName}${sts === undefined ? '' : `\nx-ots-ststoken:${sts}`}\n`,
      headBeforeMd5: `POST ${path} HTTP/1.1\r\nx-ots-apiversion: ${API_VERSION}\r\nx-ots-instancename: ${this.#instanceName}\r\nx-ots-contentmd5: `,
      headAfterDate: `\r\nx-ots-accesskeyid: ${this.#accessKeyId}\r\n${sts === undefined ? '' : `x-ots-ststoken: ${sts}\r\n`}x-ots-signature: `,
    };
    this.#templates.set(path, template);
    return template;
  }
}
