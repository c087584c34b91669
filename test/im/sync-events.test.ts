// The sync event mechanism: events written to inboxes (write diffusion) or to a large group's
// store timeline (read diffusion) reach sync in order with messages, under the same cursor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EditEvent, Messenger, MessengerSyncResult, SyncEvent } from '../../src/index.js';
import { appendEvent, deliverEvent } from '../../src/im/sync-events.js';
import { backendFactories, type TestBackend } from './backends.js';
import { messenger, type Chat } from './fixtures.js';

const write = { concurrency: 4, dedupeWindow: 100, retry: false };

function edit(conversationId: string, seq: bigint, text: string, at: number, eventId: string): EditEvent<Chat> {
  return { type: 'edit', eventId, conversationId, by: 'alice', at, seq, message: { text }, editedAt: at, editCount: 1, revision: 1 };
}

// Syncs until nothing is waiting, one row at a time, recording messages and events in arrival order.
async function drainInOrder(m: Messenger<Chat>, userId: string, limit: number): Promise<{ order: string[]; cursor: string | undefined }> {
  const order: string[] = [];
  let cursor: string | undefined;
  for (let calls = 0; calls < 1000; calls++) {
    const result: MessengerSyncResult<Chat> = await m.sync(userId, { cursor, limit });
    expect(result.entries.length + result.events.length).toBeLessThanOrEqual(limit);
    for (const e of result.entries) order.push(`m:${e.message.text}`);
    for (const e of result.events) order.push(`e:${e.type}:${(e as EditEvent<Chat>).message.text}`);
    cursor = result.cursor;
    if (!result.hasMore) return { order, cursor };
  }
  throw new Error('sync kept reporting hasMore');
}

describe.each(backendFactories)('sync events on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  it('write diffusion: an event row in each inbox arrives after the messages before it, under the same cursor', async () => {
    const { messenger: m, sync } = messenger(t);
    const dm = 'dm:alice:bob';
    const first = await m.send({ conversationId: dm, senderId: 'alice', recipients: ['bob'], message: { text: 'one' }, messageId: 'm1' });
    t.advance(10);
    const event = edit(dm, first.entry.seq, 'one!', t.now(), 'ev-1');
    const result = await deliverEvent(sync, ['bob', 'alice'], event, write);
    expect(result.failed).toEqual([]);
    expect(result.delivered.map((d) => d.receiverId)).toEqual(['bob', 'alice']);
    t.advance(10);
    await m.send({ conversationId: dm, senderId: 'alice', recipients: ['bob'], message: { text: 'two' }, messageId: 'm2' });

    // One row per sync shows the stored order; larger pages return the same rows, split into
    // `entries` and `events`.
    expect((await drainInOrder(m, 'bob', 1)).order).toEqual(['m:one', 'e:edit:one!', 'm:two']);
    for (const limit of [2, 100]) expect((await drainInOrder(m, 'bob', limit)).order.sort()).toEqual(['e:edit:one!', 'm:one', 'm:two']);
    // The event decodes to exactly what was written.
    const all = await m.sync('bob', { limit: 10 });
    expect(all.events).toEqual([event]);
    // A retried event finds its rows and writes none.
    const again = await deliverEvent(sync, ['bob', 'alice'], event, { ...write, retry: true });
    expect(again.delivered.map((d) => d.seq)).toEqual(result.delivered.map((d) => d.seq));
    expect((await m.sync('bob', { limit: 10 })).events).toHaveLength(1);
    // History shows messages only (the inbox event never reaches the store timeline).
    expect((await m.history(dm)).entries.map((e) => e.message.text)).toEqual(['two', 'one']);
  });

  it('read diffusion: an event entry in the group timeline reaches members in order; history skips it', async () => {
    const group = 'group:big';
    const { messenger: m, store } = messenger(t, { largeGroupThreshold: 2, largeGroupsOf: () => [{ conversationId: group, from: 0n }] });
    const members = ['a', 'b', 'c', 'd'];
    const one = await m.send({ conversationId: group, senderId: 'a', recipients: members, message: { text: 'one' }, messageId: 'g1' });
    expect(one.mode).toBe('read');
    t.advance(10);
    const event: SyncEvent<Chat> = edit(group, one.entry.seq, 'one*', t.now(), 'ev-g');
    const appended = await appendEvent(store, event, write);
    expect((await appendEvent(store, event, { ...write, retry: true })).seq).toBe(appended.seq);
    t.advance(10);
    await m.send({ conversationId: group, senderId: 'b', recipients: members, message: { text: 'two' }, messageId: 'g2' });
    expect((await drainInOrder(m, 'c', 1)).order).toEqual(['m:one', 'e:edit:one*', 'm:two']);
    expect((await drainInOrder(m, 'c', 3)).order.sort()).toEqual(['e:edit:one*', 'm:one', 'm:two']);
    expect((await m.sync('d', { limit: 10 })).events).toEqual([event]);
    // History pages hold messages only and never skip one, whatever the page size.
    for (const limit of [1, 2, 5]) {
      const texts: string[] = [];
      let page = await m.history(group, { limit });
      texts.push(...page.entries.map((e) => e.message.text));
      for (let i = 0; page.hasMore && i < 10; i++) {
        page = await m.history(group, { limit, before: page.next });
        texts.push(...page.entries.map((e) => e.message.text));
      }
      expect(texts).toEqual(['two', 'one']);
    }
  });
});
