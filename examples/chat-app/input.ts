// Everything from the browser is untrusted: each field is checked here, and a bad one is answered
// with 400 and a message saying which field and what is expected, before the Messenger is called.
import type { IncomingMessage } from 'node:http';
import { memberOf, USERS, type Conversation } from './directory.js';

/** An error answered with `status` and `{ error: { code, message } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 16 * 1024;
/** Longest message text, in characters. */
export const MAX_TEXT = 2000;

function bad(field: string, expected: string): HttpError {
  return new HttpError(400, 'INVALID_ARGUMENT', `${field}: expected ${expected}`);
}

/** Reads a JSON object body of at most 16 KiB. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_ARGUMENT', 'the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('body', 'a JSON object');
  return body as Record<string, unknown>;
}

/** One of the demo's fixed users (there is no authentication: see the README). */
export function user(v: unknown): string {
  if (typeof v !== 'string' || !USERS.includes(v)) throw bad('user', `one of ${USERS.join(', ')}`);
  return v;
}

/** A conversation `userId` is a member of. */
export function conversation(userId: string, v: unknown): Conversation {
  const c = typeof v === 'string' ? memberOf(userId, v) : undefined;
  if (c === undefined) throw new HttpError(403, 'FORBIDDEN', `conversation: ${userId} is not a member of ${JSON.stringify(v)}`);
  return c;
}

/** Message text: 1 to MAX_TEXT characters, not only blanks. */
export function text(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT) throw bad('text', `a non-blank string of at most ${MAX_TEXT} characters`);
  return v;
}

/** A client-generated id (messageId, requestId): 1 to 64 of [A-Za-z0-9_-]. */
export function clientId(field: string, v: unknown): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw bad(field, '1 to 64 characters from A-Z, a-z, 0-9, _ and -');
  return v;
}

/** A seq, sent as a decimal string because it is a 64-bit integer (JSON numbers lose precision). */
export function seq(field: string, v: unknown): bigint {
  if (typeof v !== 'string' || !/^\d{1,19}$/.test(v) || BigInt(v) > 9223372036854775807n) throw bad(field, 'a seq as a decimal string');
  return BigInt(v);
}

/** An optional opaque cursor from an earlier answer. */
export function optionalCursor(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 8192) throw bad('cursor', 'the cursor string of an earlier answer');
  return v;
}
