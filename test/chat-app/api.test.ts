// The chat server's HTTP API without a browser: everything it receives is untrusted, so each bad
// input gets a 4xx naming the field, and nothing reaches the Messenger unchecked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatServer, type ChatServer } from './chat-server.js';

let server: ChatServer;

async function call(method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; json: any }> {
  const init: RequestInit = method === 'GET' ? {} : { method, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
  const res = await fetch(new URL(path, server.url), { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, json: await res.json() };
}

describe('chat server API', () => {
  beforeAll(async () => {
    server = await startChatServer(['--port', '0']);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('sends, syncs by cursor, and answers a re-send with the same message', async () => {
    const sent = await call('POST', '/api/send', { user: 'alice', conversation: 'dm:alice:bob', text: 'hi', messageId: 'api-1' });
    expect(sent.status).toBe(200);
    expect(sent.json.mode).toBe('write');
    const again = await call('POST', '/api/send', { user: 'alice', conversation: 'dm:alice:bob', text: 'hi', messageId: 'api-1' });
    expect(again.json.entry.seq).toBe(sent.json.entry.seq); // one message, however often it is sent
    const first = await call('GET', '/api/sync?user=bob');
    expect(first.json.entries.map((e: { message: { text: string } }) => e.message.text)).toEqual(['hi']);
    const next = await call('GET', `/api/sync?user=bob&cursor=${encodeURIComponent(first.json.cursor)}`);
    expect(next.json.entries).toEqual([]);
    const seq = sent.json.entry.seq as string;
    expect((await call('GET', `/api/receipts?user=alice&conversation=dm:alice:bob&seq=${seq}`)).json.readBy).toEqual([]);
    expect((await call('POST', '/api/read', { user: 'bob', conversation: 'dm:alice:bob', seq })).json.advanced).toBe(true);
    expect((await call('GET', `/api/receipts?user=alice&conversation=dm:alice:bob&seq=${seq}`)).json).toEqual({ readBy: ['bob'], notReadBy: [] });
  }, 60_000);

  it.each([
    ['an unknown user', { user: 'eve', conversation: 'dm:alice:bob', text: 'x', messageId: 'a' }, 400, 'user: expected one of alice, bob, carol, dave'],
    ['a user as a number', { user: 1, conversation: 'dm:alice:bob', text: 'x', messageId: 'a' }, 400, 'user: expected'],
    ['a conversation the user is not in', { user: 'dave', conversation: 'dm:alice:bob', text: 'x', messageId: 'a' }, 403, 'dave is not a member of "dm:alice:bob"'],
    ['a blank text', { user: 'alice', conversation: 'dm:alice:bob', text: '   ', messageId: 'a' }, 400, 'text: expected a non-blank string'],
    ['a text over 2000 characters', { user: 'alice', conversation: 'dm:alice:bob', text: 'x'.repeat(2001), messageId: 'a' }, 400, 'at most 2000 characters'],
    ['a text that is not a string', { user: 'alice', conversation: 'dm:alice:bob', text: { html: '<b>' }, messageId: 'a' }, 400, 'text: expected'],
    ['a messageId with other characters', { user: 'alice', conversation: 'dm:alice:bob', text: 'x', messageId: 'a/b' }, 400, 'messageId: expected 1 to 64 characters'],
    ['no messageId', { user: 'alice', conversation: 'dm:alice:bob', text: 'x' }, 400, 'messageId: expected'],
  ])('refuses a send with %s', async (_name, body, status, message) => {
    const res = await call('POST', '/api/send', body);
    expect(res.status).toBe(status);
    expect(res.json.error.message).toContain(message);
  });

  it('refuses bodies that are not a small JSON object', async () => {
    expect((await call('POST', '/api/send', '{not json')).json.error.message).toBe('the body is not valid JSON');
    expect((await call('POST', '/api/send', '[1]')).status).toBe(400);
    expect((await call('POST', '/api/send', 'user=alice', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const big = await call('POST', '/api/send', { user: 'alice', conversation: 'dm:alice:bob', text: 'x'.repeat(17_000), messageId: 'a' });
    expect(big.status).toBe(413);
  });

  it('refuses a bad seq, a bad cursor, and a recall by someone who did not send the message', async () => {
    const { json } = await call('POST', '/api/send', { user: 'alice', conversation: 'dm:alice:bob', text: 'mine', messageId: 'api-2' });
    expect((await call('POST', '/api/recall', { user: 'alice', conversation: 'dm:alice:bob', seq: 12, requestId: 'r' })).json.error.message).toContain('seq: expected a seq as a decimal string');
    expect((await call('POST', '/api/recall', { user: 'alice', conversation: 'dm:alice:bob', seq: '99999999999999999999', requestId: 'r' })).status).toBe(400);
    const byBob = await call('POST', '/api/recall', { user: 'bob', conversation: 'dm:alice:bob', seq: json.entry.seq, requestId: 'r-bob' });
    expect([byBob.status, byBob.json.error.code]).toEqual([403, 'FORBIDDEN']);
    const missing = await call('POST', '/api/recall', { user: 'alice', conversation: 'dm:alice:bob', seq: '9000000000000000000', requestId: 'r-1' });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'NOT_FOUND']);
    const cursor = await call('GET', '/api/sync?user=bob&cursor=not-a-cursor');
    expect([cursor.status, cursor.json.error.code]).toEqual([400, 'INVALID_CURSOR']);
    const other = await call('GET', '/api/history?user=dave&conversation=dm:alice:bob');
    expect(other.status).toBe(403);
    expect((await call('GET', '/api/nowhere')).status).toBe(404);
    const large = await call('GET', `/api/receipts?user=alice&conversation=group:everyone&seq=${json.entry.seq}`);
    expect([large.status, large.json.error.code]).toEqual([400, 'NOT_SUPPORTED']);
  });
});
