// The wire path's HTTP/1.1 pool against servers that answer in the ways HTTP allows: keep-alive
// reuse, an idle connection the server closes, chunked bodies, `Connection: close`, bodies to the
// end of the connection, answers split across many reads, and more requests than connections.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpPool } from '../../src/backends/tablestore/wire/http-pool.js';
import { httpHead } from './support.js';

/** A raw TCP server: `answer` gets each complete request (head and body) and the socket. */
async function rawServer(answer: (socket: net.Socket, request: { head: string; body: Buffer }, index: number) => void): Promise<{ port: number; connections: () => number; closed: () => Promise<void>; close: () => Promise<void> }> {
  let connections = 0;
  let onClosed: (() => void) | undefined;
  let index = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.subarray(end + 4, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        answer(socket, { head, body }, index++);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => onClosed?.());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    /** Resolves when a connection next closes on the server's side. */
    closed: () => new Promise<void>((resolve) => (onClosed = resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-ots-requestid: r\r\n${extra}\r\n${body}`;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setup(answer: Parameters<typeof rawServer>[0], maxSockets = 300): Promise<{ pool: HttpPool; server: Awaited<ReturnType<typeof rawServer>> }> {
  const server = await rawServer(answer);
  const pool = new HttpPool({ protocol: 'http:', hostname: '127.0.0.1', port: server.port, maxSockets });
  cleanup.push(() => server.close(), () => pool.destroy());
  return { pool, server };
}

const send = (pool: HttpPool, body = 'ping', timeoutMs = 5000): ReturnType<HttpPool['send']> =>
  pool.send(Buffer.concat([httpHead('/GetRow', { 'Content-Length': String(Buffer.byteLength(body)), Host: '127.0.0.1' }), Buffer.from(body)]), timeoutMs);

describe('HttpPool', () => {
  it('reuses one keep-alive connection for requests one after another, and hands headers as Node does', async () => {
    const { pool, server } = await setup((socket, request) => socket.write(ok(`echo ${request.body.toString()}`, 'Set-Cookie: a\r\nset-cookie: b\r\nX-Twice: 1\r\nx-twice: 2\r\nContent-Type: x\r\n')));
    for (let i = 0; i < 5; i++) {
      const answer = await send(pool, `m${i}`);
      expect(answer.status).toBe(200);
      expect(answer.body.toString()).toBe(`echo m${i}`);
      expect(answer.headers).toMatchObject({ 'x-ots-requestid': 'r', 'set-cookie': ['a', 'b'], 'x-twice': '1, 2', 'content-type': 'x' });
    }
    expect(server.connections()).toBe(1);
  });

  it('reads the request id as the SDK does (x-ots-request-id first, then x-ots-requestid, any case, repeats joined) and frames by the first Content-Length', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nX-OTS-RequestId: old\r\ncontent-length: 1\r\nContent-Length: 9\r\n\r\na',
      'HTTP/1.1 200 OK\r\nx-ots-requestid: old\r\nX-Ots-Request-Id: new\r\nx-ots-request-id: again\r\nContent-Length: 1\r\n\r\nb',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc',
    ];
    const { pool } = await setup((socket, _request, index) => socket.write(answers[index]!));
    const seen = [];
    for (let i = 0; i < answers.length; i++) {
      const answer = await send(pool);
      seen.push([answer.requestId, answer.body.toString(), answer.headers['x-ots-request-id'] ?? answer.headers['x-ots-requestid']]);
    }
    expect(seen).toEqual([
      ['old', 'a', 'old'],
      ['new, again', 'b', 'new, again'],
      [undefined, 'c', undefined],
    ]);
  });

  it('writes the request line, the headers in order, then Connection: keep-alive', async () => {
    let seen = '';
    const { pool } = await setup((socket, request) => {
      seen = request.head;
      socket.write(ok(''));
    });
    await send(pool, 'abc');
    expect(seen).toBe('POST /GetRow HTTP/1.1\r\nContent-Length: 3\r\nHost: 127.0.0.1\r\nConnection: keep-alive');
  });

  it('drops an idle connection the server closed, and opens a new one for the next request', async () => {
    const { pool, server } = await setup((socket) => {
      socket.write(ok('x'));
      // The server ends idle connections right after answering.
      setImmediate(() => socket.end());
    });
    const closed = server.closed();
    expect((await send(pool)).body.toString()).toBe('x');
    // The pool drops the idle connection on the server's FIN, and closes its side too.
    await closed;
    expect((await send(pool)).body.toString()).toBe('x');
    expect(server.connections()).toBe(2);
  });

  it('reads a chunked body split across many reads, and one that runs to the end of the connection', async () => {
    const { pool } = await setup((socket, _request, index) => {
      if (index === 0) {
        const parts = ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhel', 'lo\r\n', '6;ext=1\r\n world\r\n', '0\r\n\r\n'];
        let i = 0;
        const next = (): void => {
          if (i < parts.length) socket.write(parts[i++]!, () => setImmediate(next));
        };
        next();
      } else {
        socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
      }
    });
    expect((await send(pool)).body.toString()).toBe('hello world');
    expect((await send(pool)).body.toString()).toBe('until the end');
  });

  it('does not reuse a connection the answer says to close', async () => {
    const { pool, server } = await setup((socket) => socket.write(ok('x', 'Connection: close\r\n')));
    await send(pool);
    await send(pool);
    expect(server.connections()).toBe(2);
  });

  it('queues requests beyond maxSockets and serves them all on that many connections', async () => {
    const { pool, server } = await setup((socket, request) => setImmediate(() => socket.write(ok(request.body.toString()))), 2);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(pool, `q${i}`)));
    expect(answers.map((a) => a.body.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}`));
    expect(server.connections()).toBe(2);
  });

  it('rejects with an SDK-shaped NetworkingError when the server hangs up mid-answer, or stays silent past the timeout', async () => {
    const { pool } = await setup((socket, _request, index) => {
      if (index === 0) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
      // index 1: never answers.
    });
    await expect(send(pool)).rejects.toMatchObject({ code: 'NetworkingError', message: 'socket hang up', retryable: true });
    await expect(send(pool, 'x', 50)).rejects.toMatchObject({ code: 'NetworkingError', message: 'Connection timed out after 50ms' });
  });

  it('reads answers larger than its read buffer on several connections at once, each intact (what is read is copied out before the next read)', async () => {
    const bodyOf = (tag: string): string => Array.from({ length: 50_000 }, (_, i) => `${tag}${i % 10}`).join('');
    const { pool, server } = await setup((socket, request) => {
      const body = bodyOf(request.body.toString());
      // Written in pieces, so that the connections' reads interleave.
      const bytes = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      let at = 0;
      const next = (): void => {
        if (at < bytes.length) socket.write(bytes.subarray(at, (at += 50_000)), () => setImmediate(next));
      };
      next();
    });
    const tags = ['a', 'b', 'c', 'd'];
    const answers = await Promise.all(tags.map((tag) => send(pool, tag)));
    expect(answers.map((a) => a.body.toString() === bodyOf(tags[answers.indexOf(a)]!))).toEqual([true, true, true, true]);
    expect(answers[0]!.body.length).toBeGreaterThan(64 * 1024);
    expect(server.connections()).toBe(4);
  });

  it('closes a connection left idle in the pool for the request timeout, and opens a new one for the next request', async () => {
    const { pool, server } = await setup((socket) => socket.write(ok('x')));
    const closed = server.closed();
    expect((await send(pool, 'ping', 50)).body.toString()).toBe('x');
    // Nothing else happens: the idle connection's timeout closes it (the server sees the close).
    await closed;
    expect((await send(pool, 'ping', 50)).body.toString()).toBe('x');
    expect(server.connections()).toBe(2);
  });

  it('rejects a request after destroy()', async () => {
    const { pool } = await setup((socket) => socket.write(ok('x')));
    pool.destroy();
    await expect(send(pool)).rejects.toMatchObject({ code: 'NetworkingError' });
  });
});
