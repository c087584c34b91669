/**
 * HTTP/1.1 exchanges over a keep-alive connection pool: one POST, its headers and body handed to
 * the socket in one write, its answer collected into one Buffer.
 *
 * @packageDocumentation
 */
import http from 'node:http';
import https from 'node:https';
import { networkError, timeoutError } from './sdk-errors.js';

/** An answer of the service, whatever its status. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Where requests go and how. */
export interface ConnectionTarget {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
  /** The keep-alive pool; the caller owns (and destroys) it. */
  readonly agent: http.Agent;
  /** Socket idle timeout in milliseconds, as the SDK's `httpOptions.timeout`; 0 for none. */
  readonly timeoutMs: number;
}

/**
 * Sends one POST and resolves with the answer. Rejects with an SDK-shaped `NetworkingError` when
 * the connection fails or stays idle for `timeoutMs`.
 *
 * The body goes out with `end(body)`: Node corks the socket for it, so the header block and the
 * body leave in one `writev` (the SDK pipes the body through two streams in 16 KB chunks).
 */
export function post(target: ConnectionTarget, path: string, headers: Record<string, string>, body: Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const request = (target.protocol === 'https:' ? https : http).request(
      { host: target.hostname, port: target.port, method: 'POST', path, headers, agent: target.agent },
      (response) => {
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          length += chunk.length;
        });
        response.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length) });
        });
        response.on('error', (error) => fail(networkError(error, target.hostname)));
        // A connection dropped mid-answer ends the response without 'end' on some Node versions.
        response.on('aborted', () => fail(networkError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), target.hostname)));
      },
    );
    if (target.timeoutMs > 0) {
      request.setTimeout(target.timeoutMs, () => {
        fail(timeoutError(target.timeoutMs, target.hostname));
        // Like the SDK: drop the connection without letting its reset error surface.
        request.destroy();
      });
    }
    request.on('error', (error) => fail(networkError(error, target.hostname)));
    request.end(body);
  });
}
