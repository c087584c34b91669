/**
 * A small HTTP/1.1 client for one host: a pool of keep-alive connections (TCP or TLS), each
 * request written as one buffer (header block and body together), each answer parsed by length
 * (or chunked) into one Buffer. It replaces `node:http` on the wire path, whose request and
 * response objects, agent bookkeeping and event emitters cost more client CPU than a whole small
 * TableStore request's encoding; the bytes on the wire are the same as `node:http` sends for these
 * requests (the differential suite compares the raw headers with the SDK's).
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
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
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

const IDLE_EVENTS = ['close', 'error', 'end', 'data'] as const;

// What Node refuses in a header value (`ERR_INVALID_CHAR`).
// eslint-disable-next-line no-control-regex
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The header block of a POST, as `node:http` writes it for these headers: the request line, the
 * headers in the given order with names as given, then `Connection: keep-alive`.
 * @throws {TypeError} with code `ERR_INVALID_CHAR` for a value Node would refuse (e.g. a line break).
 */
export function requestHead(path: string, headers: Readonly<Record<string, string>>): Buffer {
  let head = `POST ${path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (INVALID_VALUE.test(value)) {
      throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
    }
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}Connection: keep-alive\r\n\r\n`, 'latin1');
}

/** One exchange's parse state. */
interface Exchange {
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: Error) => void;
  status: number;
  headers: IncomingHttpHeaders | undefined;
  keepAlive: boolean;
  /** Bytes of body still expected (by Content-Length); -1 while chunked; -2 until the connection ends. */
  remaining: number;
  chunks: Buffer[];
  length: number;
}

/** A keep-alive connection pool for one host. */
export class HttpPool {
  readonly #target: PoolTarget;
  readonly #idle: net.Socket[] = [];
  /** The listener that drops an idle connection when the server closes it, per idle connection. */
  readonly #dropIdle = new WeakMap<net.Socket, () => void>();
  readonly #waiting: ((socket: net.Socket | Error) => void)[] = [];
  #open = 0;
  #destroyed = false;

  constructor(target: PoolTarget) {
    this.#target = target;
  }

  /**
   * Sends one request (`head` from {@link requestHead}, then `body`) and resolves with the answer.
   * Rejects with an SDK-shaped `NetworkingError` when the connection fails, closes before the
   * answer is complete, or stays idle for `timeoutMs` (0: no timeout).
   */
  async request(head: Buffer, body: Buffer, timeoutMs: number): Promise<HttpAnswer> {
    const socket = await this.#acquire();
    return new Promise<HttpAnswer>((resolve, reject) => {
      const exchange: Exchange = { resolve, reject, status: 0, headers: undefined, keepAlive: true, remaining: 0, chunks: [], length: 0 };
      this.#run(socket, exchange, timeoutMs);
      // One write: the header block and the body leave together.
      socket.write(body.length === 0 ? head : Buffer.concat([head, body], head.length + body.length));
    });
  }

  /** Closes every connection; requests waiting for one are rejected. */
  destroy(): void {
    this.#destroyed = true;
    for (const socket of this.#idle.splice(0)) socket.destroy();
    for (const wake of this.#waiting.splice(0)) wake(new Error('The connection pool was closed'));
  }

  #acquire(): Promise<net.Socket> {
    if (this.#destroyed) return Promise.reject(networkError(new Error('The connection pool was closed'), this.#target.hostname));
    const idle = this.#takeIdle();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#open < this.#target.maxSockets) return Promise.resolve(this.#connect());
    return new Promise((resolve, reject) => {
      this.#waiting.push((socket) => (socket instanceof Error ? reject(networkError(socket, this.#target.hostname)) : resolve(socket)));
    });
  }

  #connect(): net.Socket {
    const { protocol, hostname, port } = this.#target;
    // As Node's agent sets them: no Nagle delay, TCP keep-alive probes after 1 s idle (given at
    // connect time, so that they hold from the first byte, and again below for TLS sockets).
    const socketOptions = { host: hostname, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000 };
    const socket =
      protocol === 'https:'
        ? tls.connect({ ...socketOptions, ...(net.isIP(hostname) === 0 ? { servername: hostname } : {}) })
        : net.connect(socketOptions);
    this.#open++;
    socket.once('close', () => {
      this.#open--;
      this.#wakeOne();
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    return socket;
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

  #release(socket: net.Socket): void {
    if (this.#destroyed) {
      socket.destroy();
      return;
    }
    socket.setTimeout(0);
    if (this.#waiting.length > 0) {
      this.#waiting.shift()!(socket);
      return;
    }
    // An idle connection the server closes (or that errs, or sends anything on) leaves the pool.
    const drop = (): void => {
      const i = this.#idle.indexOf(socket);
      if (i >= 0) this.#idle.splice(i, 1);
      this.#unwatch(socket);
      socket.destroy();
    };
    this.#dropIdle.set(socket, drop);
    for (const event of IDLE_EVENTS) socket.on(event, drop);
    this.#idle.push(socket);
  }

  /** The most recently used idle connection still open (the likeliest to stay so), unwatched. */
  #takeIdle(): net.Socket | undefined {
    for (let socket = this.#idle.pop(); socket !== undefined; socket = this.#idle.pop()) {
      this.#unwatch(socket);
      if (!socket.destroyed && socket.readyState === 'open') return socket;
      socket.destroy();
    }
    return undefined;
  }

  #unwatch(socket: net.Socket): void {
    const drop = this.#dropIdle.get(socket);
    if (drop === undefined) return;
    this.#dropIdle.delete(socket);
    for (const event of IDLE_EVENTS) socket.off(event, drop);
  }

  #run(socket: net.Socket, exchange: Exchange, timeoutMs: number): void {
    let pending: Buffer | undefined;
    let done = false;
    const finish = (error: Error | undefined): void => {
      if (done) return;
      done = true;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('end', onEnd);
      socket.off('timeout', onTimeout);
      if (error !== undefined) {
        socket.destroy();
        exchange.reject(error);
        return;
      }
      const body = exchange.chunks.length === 1 ? exchange.chunks[0]! : Buffer.concat(exchange.chunks, exchange.length);
      if (exchange.keepAlive && pending === undefined) this.#release(socket);
      else socket.destroy();
      exchange.resolve({ status: exchange.status, headers: exchange.headers!, body });
    };
    const fail = (error: Error): void => finish(networkError(error, this.#target.hostname));
    const onData = (chunk: Buffer): void => {
      try {
        pending = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
        pending = this.#consume(exchange, pending);
        if (exchange.headers !== undefined && exchange.remaining === 0) finish(undefined);
      } catch (error) {
        fail(error as Error);
      }
    };
    const onError = (error: Error): void => fail(error);
    // A connection closed before the answer is complete: what Node reports as "socket hang up".
    const hangUp = (): void => {
      if (exchange.headers !== undefined && exchange.remaining === -2) finish(undefined);
      else fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    };
    const onClose = hangUp;
    const onEnd = hangUp;
    const onTimeout = (): void => finish(timeoutError(timeoutMs, this.#target.hostname));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('end', onEnd);
    if (timeoutMs > 0) {
      socket.setTimeout(timeoutMs);
      socket.on('timeout', onTimeout);
    }
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
      this.#parseHead(exchange, data.toString('latin1', 0, end));
      rest = end + 4 < data.length ? data.subarray(end + 4) : undefined;
    }
    if (exchange.remaining > 0 && rest !== undefined) {
      const take = Math.min(exchange.remaining, rest.length);
      this.#push(exchange, take === rest.length ? rest : rest.subarray(0, take));
      exchange.remaining -= take;
      rest = take < rest.length ? rest.subarray(take) : undefined;
    } else if (exchange.remaining === -2 && rest !== undefined) {
      this.#push(exchange, rest);
      rest = undefined;
    }
    while (exchange.remaining === -1 && rest !== undefined) {
      const after = this.#chunk(exchange, rest);
      // An incomplete chunk: wait for more data.
      if (after === rest) return rest;
      rest = after;
    }
    if (exchange.remaining === 0 && rest !== undefined) throw new Error('Parse Error: data after the answer');
    return rest;
  }

  #push(exchange: Exchange, chunk: Buffer): void {
    exchange.chunks.push(chunk);
    exchange.length += chunk.length;
  }

  /** Reads one chunk of a chunked body; returns the rest, or the input when incomplete. */
  #chunk(exchange: Exchange, data: Buffer): Buffer | undefined {
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
    this.#push(exchange, data.subarray(line + 2, line + 2 + size));
    const next = line + 2 + size + 2;
    return next < data.length ? data.subarray(next) : undefined;
  }

  #parseHead(exchange: Exchange, head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (status === null) throw new Error('Parse Error: Invalid response status');
    exchange.status = Number(status[2]);
    const headers: IncomingHttpHeaders = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error('Parse Error: Invalid header token');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const known = headers[name];
      if (name === 'set-cookie') headers[name] = [...((known as string[] | undefined) ?? []), value];
      else if (known === undefined) headers[name] = value;
      else if (!SINGLE.has(name)) headers[name] = `${known as string}, ${value}`;
    }
    exchange.headers = headers;
    const connection = String(headers.connection ?? '').toLowerCase();
    exchange.keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const code = exchange.status;
    if (code === 204 || code === 304 || (code >= 100 && code < 200)) {
      if (code >= 100 && code < 200) throw new Error(`Parse Error: unexpected informational answer ${code}`);
      exchange.remaining = 0;
    } else if (/\bchunked\b/i.test(String(headers['transfer-encoding'] ?? ''))) {
      exchange.remaining = -1;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) throw new Error('Parse Error: Invalid Content-Length');
      exchange.remaining = length;
    } else {
      // No length: the body runs to the end of the connection, which is then not reused.
      exchange.remaining = -2;
      exchange.keepAlive = false;
    }
  }
}
