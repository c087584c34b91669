// The HTTP API: one handler per Messenger call, each validating its input first (input.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTimelineError, type Messenger } from '../../src/index.js';
import { conversationsOf, LARGE_GROUP_THRESHOLD } from './directory.js';
import { clientId, conversation, HttpError, optionalCursor, readJson, seq, text, user } from './input.js';
import type { PushHub } from './push.js';

/** What a chat message holds. */
export interface Chat {
  readonly text: string;
}

type Handler = (req: IncomingMessage, query: URLSearchParams) => Promise<unknown>;

/** The API routes, keyed by `METHOD /path`. */
export function routes(messenger: Messenger<Chat>, hub: PushHub): Map<string, Handler> {
  return new Map<string, Handler>([
    // The user's fixed conversations (the page lists them even before their first message).
    [
      'GET /api/me',
      async (_req, q) => {
        const userId = user(q.get('user'));
        return { user: userId, conversations: conversationsOf(userId) };
      },
    ],

    // New messages and changes since the device's cursor. The page loops while hasMore.
    ['GET /api/sync', async (_req, q) => messenger.sync(user(q.get('user')), { cursor: optionalCursor(q.get('cursor')), limit: 100 })],

    // Roaming: a conversation's history, newest first, 20 at a time, without what the user deleted.
    [
      'GET /api/history',
      async (_req, q) => {
        const userId = user(q.get('user'));
        const c = conversation(userId, q.get('conversation'));
        const before = q.get('before');
        return messenger.history(c.id, { userId, limit: 20, ...(before === null ? {} : { before: seq('before', before) }) });
      },
    ],

    // The conversation list with unread counts, computed by the server so every device agrees.
    ['GET /api/conversations', async (_req, q) => messenger.conversations(user(q.get('user')), { limit: 20 })],

    [
      'POST /api/send',
      async (req) => {
        const body = await readJson(req);
        const userId = user(body.user);
        const c = conversation(userId, body.conversation);
        const recipients = c.members.filter((m) => m !== userId);
        // onDelivered pushes to the members; the page's own sync then picks the message up.
        const { entry, mode } = await messenger.send({ conversationId: c.id, senderId: userId, recipients, message: { text: text(body.text) }, messageId: clientId('messageId', body.messageId) });
        return { entry, mode };
      },
    ],

    [
      'POST /api/recall',
      async (req) => {
        const body = await readJson(req);
        const userId = user(body.user);
        const c = conversation(userId, body.conversation);
        // The Messenger's default rule decides who may: the sender, within its recall window.
        const result = await messenger.recall({ conversationId: c.id, seq: seq('seq', body.seq), by: userId, requestId: clientId('requestId', body.requestId), recipients: c.members });
        hub.notify(c.members);
        return { entry: result.entry, duplicate: result.duplicate };
      },
    ],

    [
      'POST /api/edit',
      async (req) => {
        const body = await readJson(req);
        const userId = user(body.user);
        const c = conversation(userId, body.conversation);
        const result = await messenger.edit({ conversationId: c.id, seq: seq('seq', body.seq), by: userId, requestId: clientId('requestId', body.requestId), recipients: c.members, message: { text: text(body.text) } });
        hub.notify(c.members);
        return { entry: result.entry, duplicate: result.duplicate };
      },
    ],

    [
      'POST /api/read',
      async (req) => {
        const body = await readJson(req);
        const userId = user(body.user);
        const c = conversation(userId, body.conversation);
        const result = await messenger.markRead({ userId, conversationId: c.id, seq: seq('seq', body.seq) });
        // The read event sits in the user's own inbox: the user's other devices sync it and clear
        // the badge. The other members are told too, so that their "seen by" is fresh (one more
        // sync per online device and read: a real service might batch or skip this).
        if (result.advanced) hub.notify(c.members);
        return result;
      },
    ],

    // Who of the other members has read up to a message ("seen by"), for conversations fanned out.
    [
      'GET /api/receipts',
      async (_req, q) => {
        const userId = user(q.get('user'));
        const c = conversation(userId, q.get('conversation'));
        if (c.members.length > LARGE_GROUP_THRESHOLD) {
          throw new HttpError(400, 'NOT_SUPPORTED', `receipts: ${c.id} is a large group (read diffusion), whose read positions are kept per member only`);
        }
        return messenger.readReceipts({ conversationId: c.id, seq: seq('seq', q.get('seq')), members: c.members.filter((m) => m !== userId) });
      },
    ],
  ]);
}

/** Runs a handler and answers JSON (bigint seqs as decimal strings), or the error it threw. */
export async function answer(handler: Handler, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  let status = 200;
  let body: unknown;
  try {
    body = await handler(req, query);
  } catch (error) {
    [status, body] = describeError(error);
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
}

const STATUS: Record<string, number> = { INVALID_ARGUMENT: 400, MESSAGE_TOO_LARGE: 400, INVALID_CURSOR: 400, FORBIDDEN: 403, NOT_FOUND: 404, CHANGE_IN_PROGRESS: 409, SEND_IN_PROGRESS: 409 };

function describeError(error: unknown): [number, unknown] {
  if (error instanceof HttpError) return [error.status, { error: { code: error.code, message: error.message } }];
  if (isTimelineError(error) && STATUS[error.code] !== undefined) return [STATUS[error.code]!, { error: { code: error.code, message: error.message } }];
  // Anything else is the server's problem: logged here, not shown to the browser.
  console.error(error);
  const retryable = isTimelineError(error) && error.retryable;
  return [retryable ? 503 : 500, { error: { code: retryable ? 'UNAVAILABLE' : 'INTERNAL', message: retryable ? 'the store is busy; try again' : 'internal error; see the server log' } }];
}
