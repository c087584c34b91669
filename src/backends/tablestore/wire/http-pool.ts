/**
 * A small HTTP/1.1 client for one host: a pool of keep-alive connections (TCP or TLS), each
 * request written as one buffer (header block and body together), each answer parsed by length
 * (or chunked) into one Buffer. It replaces `node:http` on the wire path, whose request and
 * response objects, agent bookkeeping and event emitters cost more client CPU than a whole small
 * TableStore request's encoding; the bytes on the wire are the same as `node:http` sends for these
 * requests (the differential suite compares the raw headers with the SDK's).
 *
 * Each connection gets its listeners once, when it opens, and routes what happens to the exchange
 * it carries (or, idle, leaves the pool): adding and removing five listeners per request cost
 * more than parsing the answer.
 *
 * @packageDocumentation
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import { networkError, timeoutError } from './sdk-errors.js';

/** An answer of the service, whatever its status. */
export interface HttpAnswer {
  readonly status: number;
  /**
   * The headers as `node:http` hands them (names in lower case, repeats joined); built from the
   * header block on first use (a successful answer needs only {@link HttpAnswer.requestId}).
   */
  readonly headers: IncomingHttpHeaders;
  /** What `headers['x-ots-request-id'] ?? headers['x-ots-requestid']` gives, read in the framing pass. */
  readonly requestId: string | undefined;
  readonly body: Buffer;
}

/** An answer whose headers object is made only when asked for. */
class Answer implements HttpAnswer {
  readonly status: number;
  readonly requestId: string | undefined;
  readonly body: Buffer;
  readonly #lines: string;
  #headers: IncomingHttpHeaders | undefined;

  constructor(status: number, lines: string, requestId: string | undefined, body: Buffer) {
    this.status = status;
    this.#lines = lines;
    this.requestId = requestId;
    this.body = body;
  }

  get headers(): IncomingHttpHeaders {
    this.#headers ??= headersOf(this.#lines);
    return this.#headers;
  }
}

/** Where a pool connects. */
export interface PoolTarget {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
  /** Most connections open at once; further requests wait for one to be free. */
  readonly maxSockets: number;
}

// Headers whose repeats Node's IncomingMessage drops (the first wins); others are joined by ', '.
const SINGLE = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

// What Node refuses in a header value (`ERR_INVALID_CHAR`).
// eslint-disable-next-line no-control-regex
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** The error Node throws for a header value it refuses (a line break, a control character). */
export function invalidHeaderError(name: string): TypeError {
  return Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
}

/** True when Node would refuse `value` in a header. */
export function isInvalidHeaderValue(value: string): boolean {
  return INVALID_VALUE.test(value);
}

/** One exchange: its promise's settlers and its parse state. */
interface Exchange {
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: Error) => void;
  status: number;
  /** The header lines (after the status line), once the header block is complete. */
  headers: string | undefined;
  requestId: string | undefined;
  keepAlive: boolean;
  /** Bytes of body still expected (by Content-Length); -1 while chunked; -2 until the connection ends. */
  remaining: number;
  chunks: Buffer[];
  length: number;
}

/** A pooled connection and what it is doing. */
interface Connection {
  readonly socket: net.Socket;
  /** The exchange it carries; undefined while idle in the pool (or being handed over). */
  exchange: Exchange | undefined;
  /** Bytes of the current answer not parsed yet. */
  pending: Buffer | undefined;
  /** True while in the pool's idle list. */
  idle: boolean;
  /** The idle timeout armed on the socket (0: none). */
  timeoutMs: number;
}

/**
 * A keep-alive connection pool for one host. A connection's idle timeout stays armed between
 * requests (re-arming it twice per request cost more than the rest of the bookkeeping), so a
 * connection left unused in the pool for the request timeout is closed; the next request opens
 * a new one.
 */
export class HttpPool {
  readonly #target: PoolTarget;
  readonly #idle: Connection[] = [];
  readonly #waiting: ((connection: Connection | Error) => void)[] = [];
  #open = 0;
  #destroyed = false;
  /** Where the pool's TCP connections read (one at a time: each read is handled before the next). */
  readonly #readBuffer = Buffer.allocUnsafe(64 * 1024);

  constructor(target: PoolTarget) {
    this.#target = target;
  }

  /**
   * Sends one request laid out as one buffer (header block and body, so that they leave in one
   * write) and resolves with the answer. Rejects with an SDK-shaped `NetworkingError` when the
   * connection fails, closes before the answer is complete, or stays idle for `timeoutMs` (0: no
   * timeout).
   */
  send(message: Buffer, timeoutMs: number): Promise<HttpAnswer> {
    if (this.#destroyed) return Promise.reject(networkError(new Error('The connection pool was closed'), this.#target.hostname));
    // The common case, a free connection or room for one, takes no extra turn of the event loop.
    let ready: Connection | undefined;
    try {
      ready = this.#takeIdle() ?? (this.#open < this.#target.maxSockets ? this.#connect() : undefined);
    } catch (error) {
      // Refused options (e.g. a bad port) reject, as they did from an async function.
      return Promise.reject(error);
    }
    if (ready !== undefined) return this.#exchange(ready, message, timeoutMs);
    return new Promise<Connection>((resolve, reject) => {
      this.#waiting.push((connection) => (connection instanceof Error ? reject(networkError(connection, this.#target.hostname)) : resolve(connection)));
    }).then((connection) => this.#exchange(connection, message, timeoutMs));
  }

  /** Closes every connection; requests waiting for one are rejected. */
  destroy(): void {
    this.#destroyed = true;
    for (const connection of this.#idle.splice(0)) {
      connection.idle = false;
      connection.socket.destroy();
    }
    for (const wake of this.#waiting.splice(0)) wake(new Error('The connection pool was closed'));
  }

  #exchange(connection: Connection, message: Buffer, timeoutMs: number): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      connection.exchange = { resolve, reject, status: 0, headers: undefined, requestId: undefined, keepAlive: true, remaining: 0, chunks: [], length: 0 };
      connection.pending = undefined;
      if (connection.timeoutMs !== timeoutMs) {
        connection.timeoutMs = timeoutMs;
        connection.socket.setTimeout(timeoutMs);
      }
      connection.socket.write(message);
    });
  }

  #connect(): Connection {
    const { protocol, hostname, port } = this.#target;
    // As Node's agent sets them: no Nagle delay, TCP keep-alive probes after 1 s idle (given at
    // connect time, so that they hold from the first byte, and again below for TLS sockets).
    const socketOptions = { host: hostname, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000 };
    let connection: Connection;
    // Plain TCP reads into the pool's one buffer (`onread`), skipping the readable stream's
    // machinery per answer; what is read is copied out at once, since the next read reuses it.
    const socket =
      protocol === 'https:'
        ? tls.connect({ ...socketOptions, ...(net.isIP(hostname) === 0 ? { servername: hostname } : {}) })
        : net.connect({ ...socketOptions, onread: { buffer: this.#readBuffer, callback: (size: number, buffer: Uint8Array) => this.#onRead(connection, size, buffer) } });
    this.#open++;
    connection = { socket, exchange: undefined, pending: undefined, idle: false, timeoutMs: 0 };
    if (protocol === 'https:') socket.on('data', (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on('error', (error: Error) => this.#onError(connection, error));
    socket.on('end', () => this.#onEnd(connection));
    socket.on('timeout', () => this.#onTimeout(connection));
    socket.on('close', () => {
      this.#onEnd(connection);
      this.#open--;
      this.#wakeOne();
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    return connection;
  }

  // `onread`'s callback: true keeps reading.
  #onRead(connection: Connection, size: number, buffer: Uint8Array): boolean {
    this.#onData(connection, Buffer.from(buffer.subarray(0, size)));
    return true;
  }

  #onData(connection: Connection, chunk: Buffer): void {
    const exchange = connection.exchange;
    // An idle connection the server sends anything on leaves the pool.
    if (exchange === undefined) return this.#drop(connection);
    try {
      const pending = connection.pending;
      connection.pending = this.#consume(exchange, pending === undefined ? chunk : Buffer.concat([pending, chunk]));
      if (exchange.headers !== undefined && exchange.remaining === 0) this.#finish(connection, undefined);
    } catch (error) {
      this.#fail(connection, error as Error);
    }
  }

  #onError(connection: Connection, error: Error): void {
    if (connection.exchange === undefined) this.#drop(connection);
    else this.#fail(connection, error);
  }

  // A connection closed before the answer is complete: what Node reports as "socket hang up".
  #onEnd(connection: Connection): void {
    const exchange = connection.exchange;
    if (exchange === undefined) return this.#drop(connection);
    if (exchange.headers !== undefined && exchange.remaining === -2) this.#finish(connection, undefined);
    else this.#fail(connection, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  }

  #onTimeout(connection: Connection): void {
    // Idle in the pool for a whole timeout: close it rather than keep a connection nobody uses.
    if (connection.exchange === undefined) return this.#drop(connection);
    this.#finish(connection, timeoutError(connection.timeoutMs, this.#target.hostname));
  }

  #fail(connection: Connection, error: Error): void {
    this.#finish(connection, networkError(error, this.#target.hostname));
  }

  #finish(connection: Connection, error: Error | undefined): void {
    const exchange = connection.exchange;
    if (exchange === undefined) return;
    connection.exchange = undefined;
    if (error !== undefined) {
      connection.pending = undefined;
      connection.socket.destroy();
      exchange.reject(error);
      return;
    }
    const body = exchange.chunks.length === 1 ? exchange.chunks[0]! : Buffer.concat(exchange.chunks, exchange.length);
    if (exchange.keepAlive && connection.pending === undefined) this.#release(connection);
    else connection.socket.destroy();
    exchange.resolve(new Answer(exchange.status, exchange.headers!, exchange.requestId, body));
  }

  /** Hands a free connection slot to the next waiting request, if any. */
  #wakeOne(): void {
    if (this.#destroyed || this.#waiting.length === 0) return;
    const idle = this.#takeIdle();
    if (idle !== undefined) {
      this.#waiting.shift()!(idle);
    } else if (this.#open < this.#target.maxSockets) {
      this.#waiting.shift()!(this.#connect());
    }
  }

  #release(connection: Connection): void {
    if (this.#destroyed) {
      connection.socket.destroy();
      return;
    }
    if (this.#waiting.length > 0) {
      this.#waiting.shift()!(connection);
      return;
    }
    // While idle, whatever the connection sees (close, error, end, data, its timeout) drops it.
    connection.idle = true;
    this.#idle.push(connection);
  }

  /** An idle connection the server closed (or that erred, sent anything, or timed out) leaves the pool. */
  #drop(connection: Connection): void {
    if (connection.idle) {
      connection.idle = false;
      const i = this.#idle.indexOf(connection);
      if (i >= 0) this.#idle.splice(i, 1);
    }
    connection.socket.destroy();
  }

  /** The most recently used idle connection still open (the likeliest to stay so). */
  #takeIdle(): Connection | undefined {
    for (let connection = this.#idle.pop(); connection !== undefined; connection = this.#idle.pop()) {
      connection.idle = false;
      const socket = connection.socket;
      if (!socket.destroyed && socket.readyState === 'open') return connection;
      socket.destroy();
    }
    return undefined;
  }

  /** Parses what it can of `data`; returns the unparsed rest (undefined when none). */
  #consume(exchange: Exchange, data: Buffer): Buffer | undefined {
    let rest: Buffer | undefined = data;
    if (exchange.headers === undefined) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        if (data.length > 80 * 1024) throw new Error('Parse Error: Header overflow');
        return data;
      }
      parseHead(exchange, data.toString('latin1', 0, end));
      rest = end + 4 < data.length ? data.subarray(end + 4) : undefined;
    }
    if (exchange.remaining > 0 && rest !== undefined) {
      const take = Math.min(exchange.remaining, rest.length);
      push(exchange, take === rest.length ? rest : rest.subarray(0, take));
      exchange.remaining -= take;
      rest = take < rest.length ? rest.subarray(take) : undefined;
    } else if (exchange.remaining === -2 && rest !== undefined) {
      push(exchange, rest);
      rest = undefined;
    }
    while (exchange.remaining === -1 && rest !== undefined) {
      const after = readChunk(exchange, rest);
      // An incomplete chunk: wait for more data.
      if (after === rest) return rest;
      rest = after;
    }
    if (exchange.remaining === 0 && rest !== undefined) throw new Error('Parse Error: data after the answer');
    return rest;
  }
}

function push(exchange: Exchange, chunk: Buffer): void {
  exchange.chunks.push(chunk);
  exchange.length += chunk.length;
}

/** Reads one chunk of a chunked body; returns the rest, or the input when incomplete. */
function readChunk(exchange: Exchange, data: Buffer): Buffer | undefined {
  const line = data.indexOf('\r\n');
  if (line < 0) return data;
  const size = parseInt(data.toString('latin1', 0, line).split(';', 1)[0]!.trim(), 16);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error('Parse Error: Invalid character in chunk size');
  if (size === 0) {
    // The last chunk, then (no trailers expected) an empty line.
    const end = data.indexOf('\r\n\r\n', line);
    if (end < 0) return data;
    exchange.remaining = 0;
    return end + 4 < data.length ? data.subarray(end + 4) : undefined;
  }
  if (data.length < line + 2 + size + 2) return data;
  push(exchange, data.subarray(line + 2, line + 2 + size));
  const next = line + 2 + size + 2;
  return next < data.length ? data.subarray(next) : undefined;
}

// The framing pass over the header block, by index (no regular expressions or splits: this runs
// once per request): the status, and of the headers only what framing needs and the request id.
// Repeats are read as Node joins them: the first Content-Length wins; a token found in any
// Transfer-Encoding or Connection line is in their joined value.
function parseHead(exchange: Exchange, head: string): void {
  let eol = head.indexOf('\r\n');
  if (eol < 0) eol = head.length;
  // "HTTP/1.0 NNN" or "HTTP/1.1 NNN", then a space and a reason, or nothing.
  const minor = head.charCodeAt(7);
  if (eol < 12 || !head.startsWith('HTTP/1.') || (minor !== 48 && minor !== 49) || head.charCodeAt(8) !== 32 || (eol > 12 && head.charCodeAt(12) !== 32)) {
    throw new Error('Parse Error: Invalid response status');
  }
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = head.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) throw new Error('Parse Error: Invalid response status');
    status = status * 10 + digit;
  }
  exchange.status = status;
  let contentLength: string | undefined;
  let chunked = false;
  let close = false;
  let keepAlive = false;
  let requestId: string | undefined;
  let requestIdOld: string | undefined;
  for (let start = eol + 2; start < head.length; ) {
    let end = head.indexOf('\r\n', start);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', start);
    if (colon <= start || colon >= end) throw new Error('Parse Error: Invalid header token');
    // Only names of the lengths looked for are lower-cased and compared.
    const length = colon - start;
    if (length === 14 || length === 17 || length === 10 || length === 15 || length === 16 || head.charCodeAt(start) <= 32 || head.charCodeAt(colon - 1) <= 32) {
      const name = head.slice(start, colon).trim().toLowerCase();
      if (name === 'content-length') {
        contentLength ??= head.slice(colon + 1, end).trim();
      } else if (name === 'transfer-encoding') {
        chunked ||= /\bchunked\b/i.test(head.slice(colon + 1, end));
      } else if (name === 'connection') {
        const value = head.slice(colon + 1, end).toLowerCase();
        close ||= /\bclose\b/.test(value);
        keepAlive ||= /\bkeep-alive\b/.test(value);
      } else if (name === 'x-ots-request-id') {
        const value = head.slice(colon + 1, end).trim();
        requestId = requestId === undefined ? value : `${requestId}, ${value}`;
      } else if (name === 'x-ots-requestid') {
        const value = head.slice(colon + 1, end).trim();
        requestIdOld = requestIdOld === undefined ? value : `${requestIdOld}, ${value}`;
      }
    }
    start = end + 2;
  }
  exchange.headers = eol + 2 < head.length ? head.slice(eol + 2) : '';
  exchange.requestId = requestId ?? requestIdOld;
  exchange.keepAlive = minor === 49 ? !close : keepAlive;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    if (status >= 100 && status < 200) throw new Error(`Parse Error: unexpected informational answer ${status}`);
    exchange.remaining = 0;
  } else if (chunked) {
    exchange.remaining = -1;
  } else if (contentLength !== undefined) {
    const length = Number(contentLength);
    if (!Number.isSafeInteger(length) || length < 0) throw new Error('Parse Error: Invalid Content-Length');
    exchange.remaining = length;
  } else {
    // No length: the body runs to the end of the connection, which is then not reused.
    exchange.remaining = -2;
    exchange.keepAlive = false;
  }
}

/** The header lines of an answer as `node:http` hands them: names in lower case, repeats joined. */
function headersOf(lines: string): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let start = 0; start < lines.length; ) {
    let end = lines.indexOf('\r\n', start);
    if (end < 0) end = lines.length;
    const colon = lines.indexOf(':', start);
    const name = lines.slice(start, colon).trim().toLowerCase();
    const value = lines.slice(colon + 1, end).trim();
    const known = headers[name];
    if (name === 'set-cookie') headers[name] = [...((known as string[] | undefined) ?? []), value];
    else if (known === undefined) headers[name] = value;
    else if (!SINGLE.has(name)) headers[name] = `${known as string}, ${value}`;
    start = end + 2;
  }
  return headers;
}
