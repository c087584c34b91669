/**
 * Error objects shaped exactly as the official Node SDK 5.x rejects with (lib/client.js
 * `extractError`, lib/event_listeners.js `SEND`, lib/http/node.js timeouts, lib/util.js `error`),
 * so that the backend's `decodeSdkError` reads a wire-path failure the same way as an SDK one.
 *
 * @packageDocumentation
 */
import type { IncomingHttpHeaders } from 'node:http';

/** An error as the SDK shapes it. `code` is the HTTP status (number) for a service answer. */
export interface SdkShapedError extends Error {
  code: string | number;
  headers?: IncomingHttpHeaders;
  hostname?: string;
  region?: undefined;
  retryable?: boolean;
  time?: Date;
}

// The SDK's names for an answer with one of these statuses and an empty body.
const EMPTY_BODY_NAMES: Readonly<Record<number, string>> = { 304: 'NotModified', 403: 'Forbidden', 400: 'BadRequest', 404: 'NotFound' };

/** The service's request id header, as the SDK reads it. */
export function requestIdOf(headers: IncomingHttpHeaders): string | undefined {
  const id = headers['x-ots-request-id'] ?? headers['x-ots-requestid'];
  return typeof id === 'string' ? id : undefined;
}

// What lib/util.js `error()` does to every error it shapes: an own, non-enumerable `name` that
// keeps an own name already set and is otherwise the code (so a service error's name is its HTTP
// status), an enumerable `message`, and the time it was made.
function finish(error: SdkShapedError): SdkShapedError {
  const own: unknown = Object.getOwnPropertyDescriptor(error, 'name')?.value;
  Object.defineProperty(error, 'name', { writable: true, enumerable: false, configurable: true, value: own || error.code || 'Error' });
  Object.defineProperty(error, 'message', { enumerable: true, writable: true, configurable: true, value: error.message });
  error.time = new Date();
  return error;
}

/**
 * The error for a non-2xx answer. Its `code` is the HTTP status, its `message` the body read as
 * UTF-8 followed by `" requestId:<id>"` (the SDK tries to parse the protobuf error body as XML,
 * fails, and falls back to that); an empty-bodied 304/400/403/404 gets the status's name as code
 * and the request id as message.
 */
export function serviceError(status: number, headers: IncomingHttpHeaders, body: Buffer): SdkShapedError {
  const requestId = requestIdOf(headers) ?? '';
  const named = EMPTY_BODY_NAMES[status];
  const error = new Error() as SdkShapedError;
  if (named !== undefined && body.length === 0) {
    error.code = named;
    error.message = requestId;
  } else {
    error.code = status;
    error.message = `${body.toString()} requestId:${requestId}`;
  }
  error.headers = headers;
  return finish(error);
}

/** The error for a failed connection or exchange: Node's error, its code replaced as the SDK does. */
export function networkError(cause: Error, hostname: string): SdkShapedError {
  const error = cause as SdkShapedError;
  error.code = 'NetworkingError';
  // The SDK copies its (unset) region onto the error too.
  error.region = undefined;
  error.hostname = hostname;
  error.retryable = true;
  return finish(error);
}

/**
 * The error for a request that saw no activity for `timeoutMs` (a socket idle timeout, as the
 * SDK's). The SDK first names it `TimeoutError`, then passes it through its network-error path,
 * which renames it `NetworkingError` and keeps the message.
 */
export function timeoutError(timeoutMs: number, hostname: string): SdkShapedError {
  const error = new Error(`Connection timed out after ${timeoutMs}ms`) as SdkShapedError;
  error.code = 'TimeoutError';
  return networkError(finish(error), hostname);
}
