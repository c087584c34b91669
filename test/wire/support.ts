/**
 * Shared set-up of the wire-path differential tests: a local HTTP server that records every
 * request (raw headers in order, body) and answers as told, and an SDK client and a `WireClient`
 * configured alike, both pointed at it.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';
import type { TableStoreClientLike, TableStoreSdk } from '../../src/backends/tablestore/sdk-types.js';
import { wireCodec } from '../../src/backends/tablestore/wire/codec.js';
import { invalidHeaderError, isInvalidHeaderValue } from '../../src/backends/tablestore/wire/http-pool.js';
import { API_VERSION, type SigningIdentity } from '../../src/backends/tablestore/wire/signing.js';
import { WireClient } from '../../src/backends/tablestore/wire/wire-client.js';

/** A request as the server received it. */
export interface Recorded {
  readonly method: string;
  readonly url: string;
  /** Header names and values in the order they arrived (`IncomingMessage.rawHeaders`). */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** What the server does with a request. */
export type Answer =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: Buffer }
  /** Destroy the connection without answering. */
  | 'drop'
  /** Never answer (the client's timeout ends it). */
  | 'hang';

/** A recording server. */
export interface Recorder {
  readonly endpoint: string;
  readonly requests: Recorded[];
  /** Sets how the next requests are answered. */
  answerWith(answer: (request: Recorded) => Answer | Promise<Answer>): void;
  close(): Promise<void>;
}

/** Starts a recording server on 127.0.0.1 (answers 200 with an empty body until told otherwise). */
export async function startRecorder(): Promise<Recorder> {
  const requests: Recorded[] = [];
  const hung = new Set<http.ServerResponse>();
  let answer: (request: Recorded) => Answer | Promise<Answer> = () => ({ status: 200 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', rawHeaders: [...req.rawHeaders], body: Buffer.concat(chunks) };
      requests.push(recorded);
      void Promise.resolve(answer(recorded)).then((a) => {
        if (a === 'drop') {
          req.socket.destroy();
        } else if (a === 'hang') {
          hung.add(res);
        } else {
          // No Date header of the recorder's own: a replayed answer must be the same bytes every time.
          res.sendDate = false;
          res.writeHead(a.status, { ...a.headers, 'content-length': String(a.body?.length ?? 0) });
          res.end(a.body);
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    answerWith(fn) {
      answer = fn;
    },
    close: async () => {
      for (const res of hung) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connection settings shared by both clients. */
export interface Settings {
  readonly endpoint: string;
  readonly instanceName?: string;
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  readonly stsToken?: string;
  readonly timeoutMs?: number;
  /** The SDK's `maxRetries` (and the wire client's); 0 unless given, as the backend sets it. */
  readonly maxRetries?: number;
}

/** An SDK client and a wire client configured alike (SDK retries off, as the backend sets them). */
export interface ClientPair {
  readonly sdk: TableStoreSdk;
  readonly sdkClient: TableStoreClientLike;
  readonly wireClient: WireClient;
  close(): void;
}

/** The fixed date both clients sign with while {@link pinDate} is in force. */
export const PINNED_DATE = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));

/**
 * Makes the SDK date its requests at {@link PINNED_DATE} (it reads the time through
 * `util.date.getDate`), so that signatures can be compared whole. Returns the undo.
 */
export function pinDate(sdk: TableStoreSdk): () => void {
  const dates = (sdk as unknown as { util: { date: { getDate: () => Date } } }).util.date;
  const original = dates.getDate;
  dates.getDate = () => new Date(PINNED_DATE.getTime());
  return () => {
    dates.getDate = original;
  };
}

/** Creates the two clients: the SDK's with its own keep-alive agent like the backend's, and a wire client. */
export async function clientPair(settings: Settings): Promise<ClientPair> {
  const sdk = await loadTableStoreSdk();
  const instanceName = settings.instanceName ?? 'wire-test';
  const accessKeyId = settings.accessKeyId ?? 'test-access-key-id';
  const accessKeySecret = settings.accessKeySecret ?? 'test-access-key-secret';
  const timeoutMs = settings.timeoutMs ?? 10_000;
  const sdkAgent = new http.Agent({ keepAlive: true, maxSockets: 300 });
  const sdkClient = new sdk.Client({
    endpoint: settings.endpoint,
    instancename: instanceName,
    accessKeyId,
    accessKeySecret,
    ...(settings.stsToken === undefined ? {} : { stsToken: settings.stsToken }),
    maxRetries: settings.maxRetries ?? 0,
    httpOptions: { timeout: timeoutMs, agent: sdkAgent },
  });
  const wireClient = new WireClient({
    endpoint: settings.endpoint,
    instanceName,
    accessKeyId,
    accessKeySecret,
    stsToken: settings.stsToken,
    timeoutMs,
    codec: wireCodec(sdk),
    retryRules: sdk,
    maxRetries: settings.maxRetries ?? 0,
    now: () => PINNED_DATE.getTime(),
  });
  return {
    sdk,
    sdkClient,
    wireClient,
    close() {
      sdkAgent.destroy();
      wireClient.destroy();
    },
  };
}

/** The names of the client methods the backend calls. */
export type Method = 'createTable' | 'describeTable' | 'updateTable' | 'putRow' | 'deleteRow' | 'updateRow' | 'batchWriteRow' | 'getRow' | 'getRange';

/** Calls `method` on `client`, resolving with `{ value }` or `{ error }`. */
export async function settle(client: TableStoreClientLike, method: Method, params: Record<string, unknown>): Promise<{ value?: unknown; error?: unknown }> {
  try {
    return { value: await (client[method] as (p: Record<string, unknown>) => Promise<unknown>)(params) };
  } catch (error) {
    return { error };
  }
}

/**
 * What a consumer reading a result sees, as a comparable value: every enumerable field, own or a
 * protobufjs prototype default (the SDK's results are protobufjs messages, whose unset fields read
 * as defaults from the prototype), and which of them are own; SDK Int64 values as `{ int64: decimal }` (checked to be the
 * SDK's own class, which the backend reads through `toBuffer()`); Buffers as hex; protobufjs Longs
 * as `{ long: [low, high, unsigned] }`; functions dropped.
 */
export function view(value: unknown, int64Class: Function): unknown {
  if (value === null || value === undefined || typeof value !== 'object') return value;
  if (value instanceof int64Class) return { int64: (value as { toString(radix: number): string }).toString(10) };
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (Array.isArray(value)) return value.map((v) => view(v, int64Class));
  const o = value as Record<string, unknown>;
  if (typeof o.low === 'number' && typeof o.high === 'number' && typeof o.unsigned === 'boolean') return { long: [o.low, o.high, o.unsigned] };
  // Which fields are the object's own matters too: the SDK's unset fields are prototype defaults,
  // and code tells "absent" from "set" by Object.hasOwn (the backend does, for a key's option).
  const out: Record<string, unknown> = { '(own keys)': Object.keys(o).filter((key) => typeof o[key] !== 'function').sort() };
  for (const key in o) {
    if (typeof o[key] !== 'function') out[key] = view(o[key], int64Class);
  }
  return out;
}

/**
 * The reference construction of a signed request's header block, built the way the SDK builds it
 * (a record of headers in insertion order, `createHash`/`createHmac` objects) and written as
 * `node:http` writes it: the tests compare the wire client's one-buffer `RequestSigner` with it.
 * The header order and the signature are documented in src/backends/tablestore/wire/signing.ts.
 */
export function referenceRequestHead(identity: SigningIdentity, path: string, body: Buffer, date: Date): Buffer {
  const md5 = createHash('md5').update(body).digest('base64');
  const isoDate = date.toISOString();
  const sts = identity.stsToken ? identity.stsToken : undefined;
  const xOts: Record<string, string> = {
    'x-ots-apiversion': API_VERSION,
    'x-ots-instancename': identity.instanceName,
    'x-ots-contentmd5': md5,
    'x-ots-date': isoDate,
    'x-ots-accesskeyid': identity.accessKeyId,
    ...(sts === undefined ? {} : { 'x-ots-ststoken': sts }),
  };
  const canonical = Object.keys(xOts)
    .sort()
    .map((name) => `${name}:${xOts[name]}\n`)
    .join('');
  const signature = createHmac('sha1', Buffer.from(identity.accessKeySecret, 'utf8')).update(`${path}\nPOST\n\n${canonical}`, 'utf8').digest('base64');
  const headers: Record<string, string> = {
    'x-ots-apiversion': API_VERSION,
    'x-ots-instancename': identity.instanceName,
    'x-ots-contentmd5': md5,
    'Content-Length': String(body.length),
    Host: identity.host,
    'x-ots-date': isoDate,
    'x-ots-accesskeyid': identity.accessKeyId,
    ...(sts === undefined ? {} : { 'x-ots-ststoken': sts }),
    'x-ots-signature': signature,
  };
  return httpHead(path, headers);
}

/**
 * The header block of a POST as `node:http` writes it for these headers: the request line, the
 * headers in the given order with names as given, then `Connection: keep-alive`.
 * @throws {TypeError} with code `ERR_INVALID_CHAR` for a value Node would refuse, with Node's message.
 */
export function httpHead(path: string, headers: Readonly<Record<string, string>>): Buffer {
  let head = `POST ${path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (isInvalidHeaderValue(value)) throw invalidHeaderError(name);
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}Connection: keep-alive\r\n\r\n`, 'latin1');
}
