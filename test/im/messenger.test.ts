import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidCursorError,
  Messenger,
  StoreTimeline,
  SyncTimeline,
  TimelineStore,
  type DeliveredEvent,
  type InboxMessage,
  type LargeGroup,
  type StoredMessage,
} from '../../src/index.js';
import { backendFactories, uniqueTable, type TestBackend } from './backends.js';
import { all, Device, expectInvalid, messenger, SECRET, WEEK_SECONDS, type Chat } from './fixtures.js';
import { FaultyBackend } from './wrappers.js';

const DAY = 86_400_000;

describe.each(backendFactories)('Messenger on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  const device = (m: Messenger<Chat>, userId: string, limit = 7) => new Device(userId, (u, o) => m.sync(u, o), limit);

  it('1:1 chat: store first, then every device of both users sees the conversation', async () => {
    const { messenger: m, store, sync } = messenger(t);
    const bobPhone = device(m, 'bob');
    const alicePhone = device(m, 'alice');
    const aliceLaptop = device(m, 'alice');
    const dm = 'dm:alice:bob';
    const sent = await m.send({ conversationId: dm, senderId: 'alice', recipients: ['bob'], message: { text: 'hi bob' }, messageId: 'a-1' });
    expect(sent.mode).toBe('write');
    expect(sent.duplicate).toBe(false);
    expect(sent.entry).toMatchObject({ conversationId: dm, senderId: 'alice', messageId: 'a-1', message: { text: 'hi bob' }, sentAt: t.now() });
    expect(sent.fanOut.delivered.map((d) => d.receiverId)).toEqual(['bob', 'alice']);
    // The store holds the message; each inbox holds an envelope pointing at it.
    expect((await store.get(dm, sent.entry.seq))?.message).toEqual({ senderId: 'alice', sentAt: t.now(), message: { text: 'hi bob' } });
    const bobInbox = await all(sync.store, 'bob');
    expect(bobInbox).toHaveLength(1);
    expect(bobInbox[0]).toMatchObject({ messageId: 'a-1', message: { conversationId: dm, seq: sent.entry.seq, senderId: 'alice' } });

    t.advance(1000);
    await m.send({ conversationId: dm, senderId: 'bob', recipients: ['alice'], message: { text: 'hi alice' }, messageId: 'b-1' });
    for (const d of [bobPhone, alicePhone, aliceLaptop]) {
      await d.drain();
      expect(d.texts()).toEqual(['hi bob', 'hi alice']);
      expect(d.received[0]).toEqual(sent.entry);
    }
    const page = await m.history(dm, { limit: 10 });
    expect(page.entries.map((e) => [e.senderId, e.message.text])).toEqual([
      ['bob', 'hi alice'],
      ['alice', 'hi bob'],
    ]);
    expect(page.hasMore).toBe(false);
  });

  it('a group of 5, each member with 3 devices syncing independently', async () => {
    const { messenger: m } = messenger(t);
    const members = ['m0', 'm1', 'm2', 'm3', 'm4'];
    const devices = members.flatMap((u) => [device(m, u, 2), device(m, u, 5), device(m, u, 100)]);
    const sent: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const sender of members) {
        const text = `${sender}-${round}`;
        sent.push(text);
        await m.send({ conversationId: 'group:5', senderId: sender, recipients: members, message: { text }, messageId: text });
        t.advance(10);
      }
      // Devices sync at different paces: some every round, some once in a while.
      for (const [i, d] of devices.entries()) if ((i + round) % 3 !== 0) await d.drain();
    }
    for (const d of devices) {
      await d.drain();
      expect(d.texts()).toEqual(sent);
      expect(new Set(d.received.map((e) => e.seq)).size).toBe(sent.length);
    }
  });

  it('a new device roams the full history page by page', async () => {
    const { messenger: m } = messenger(t);
    const members = ['a', 'b', 'c'];
    for (let i = 0; i < 57; i++) {
      await m.send({ conversationId: 'group:h', senderId: members[i % 3]!, recipients: members, message: { text: `m${i}` }, messageId: `h${i}` });
    }
    const texts: string[] = [];
    let page = await m.history('group:h', { limit: 10 });
    texts.push(...page.entries.map((e) => e.message.text));
    while (page.hasMore) {
      page = await m.history('group:h', { before: page.next, limit: 10 });
      texts.push(...page.entries.map((e) => e.message.text));
    }
    expect(texts).toEqual(Array.from({ length: 57 }, (_, i) => `m${56 - i}`));
    // The new device then syncs from what is retained in its inbox.
    const fresh = device(m, 'b', 20);
    await fresh.drain();
    expect(fresh.received).toHaveLength(57);
  });

  it('a group over the threshold uses read diffusion and still reaches every member', async () => {
    const members = Array.from({ length: 30 }, (_, i) => `g${i}`);
    const { messenger: m, sync } = messenger(t, {
      largeGroupThreshold: 10,
      largeGroupsOf: async (userId) => (members.includes(userId) ? ['group:big'] : []),
    });
    // History before the devices first sync is roamed, not synced.
    await m.send({ conversationId: 'group:big', senderId: 'g0', recipients: members, message: { text: 'before' }, messageId: 'b0' });
    const devices = members.map((u) => device(m, u, 3));
    for (const d of devices) await d.drain();
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await m.send({ conversationId: 'group:big', senderId: members[i]!, recipients: members, message: { text: `big${i}` }, messageId: `big${i}` });
      expect(r.mode).toBe('read');
      expect(r.fanOut).toEqual({ messageId: `big${i}`, delivered: [], failed: [] });
      sent.push(`big${i}`);
      t.advance(5);
    }
    // Nothing was written to any inbox.
    for (const u of members) expect(await all(sync.store, u)).toEqual([]);
    // A small conversation still fans out, and merges with the group.
    await m.send({ conversationId: 'dm:g1:g2', senderId: 'g1', recipients: ['g2'], message: { text: 'dm' }, messageId: 'dm1' });
    for (const d of devices) {
      await d.drain();
      const expected = d.userId === 'g1' || d.userId === 'g2' ? [...sent, 'dm'] : sent;
      expect(d.texts()).toEqual(expected);
    }
    expect(devices[0]!.received[0]).toMatchObject({ conversationId: 'group:big', senderId: 'g0', messageId: 'big0' });
  });

  it('merges inbox and large groups by sentAt, across limit-sized calls', async () => {
    const { messenger: m } = messenger(t, { largeGroupThreshold: 2, largeGroupsOf: () => ['group:A', 'group:B'] });
    const big = ['u', 'x', 'y', 'z'];
    const d = device(m, 'u', 2);
    await d.drain();
    const send = async (conversationId: string, recipients: string[], text: string) => {
      t.advance(1000);
      await m.send({ conversationId, senderId: 'x', recipients, message: { text }, messageId: text });
    };
    await send('group:B', big, 'B1');
    await send('dm:u:x', ['u'], 'D1');
    await send('group:A', big, 'A1');
    await send('group:B', big, 'B2');
    await send('dm:u:x', ['u'], 'D2');
    await d.drain();
    expect(d.texts()).toEqual(['B1', 'D1', 'A1', 'B2', 'D2']);
  });

  it('a group that newly appears starts at its latest entry, or at `from`', async () => {
    let groups: (string | LargeGroup)[] = [];
    const members = ['u', 'v', 'w', 'x'];
    const { messenger: m } = messenger(t, { largeGroupThreshold: 3, largeGroupsOf: () => groups });
    const d = device(m, 'u');
    await d.drain();
    const first = await m.send({ conversationId: 'group:n', senderId: 'v', recipients: members, message: { text: 'n1' }, messageId: 'n1' });
    expect(first.mode).toBe('read');
    // Without `from`, the group starts after its latest entry at first sight: n1 is history.
    groups = ['group:n'];
    await d.drain();
    expect(d.texts()).toEqual([]);
    await m.send({ conversationId: 'group:n', senderId: 'v', recipients: members, message: { text: 'n2' }, messageId: 'n2' });
    await d.drain();
    expect(d.texts()).toEqual(['n2']);
    // With `from` (the first read-diffused seq), another device that missed the transition gets everything.
    const other = device(m, 'u');
    groups = [];
    await other.drain();
    groups = [{ conversationId: 'group:n', from: first.entry.seq }];
    await other.drain();
    expect(other.texts()).toEqual(['n1', 'n2']);
    // A group that disappears is dropped from the cursor.
    groups = [];
    await m.send({ conversationId: 'group:n', senderId: 'v', recipients: members, message: { text: 'n3' }, messageId: 'n3' });
    await other.drain();
    expect(other.texts()).toEqual(['n1', 'n2']);
  });

  it('answers a cursor older than the TTL with `limited`', async () => {
    const { messenger: m } = messenger(t);
    await m.send({ conversationId: 'dm', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'x' });
    const first = await m.sync('b');
    expect(first.limited).toBe(false);
    t.advance(WEEK_SECONDS * 1000 + DAY);
    const stale = await m.sync('b', { cursor: first.cursor });
    expect(stale.limited).toBe(true);
    expect((await m.sync('b', { cursor: stale.cursor })).limited).toBe(false);
    // Polling daily keeps a cursor fresh.
    let cursor = stale.cursor;
    for (let i = 0; i < 9; i++) {
      t.advance(DAY);
      const r = await m.sync('b', { cursor });
      expect(r.limited).toBe(false);
      cursor = r.cursor;
    }
  });

  it('interleaved sends and syncs from many concurrent tasks miss and repeat nothing', async () => {
    const small = ['p0', 'p1', 'p2', 'p3', 'p4'];
    const large = ['p0', 'p5', 'p6', 'p7', 'p8', 'p9', 'q0', 'q1', 'q2', 'q3', 'q4'];
    const users = [...new Set([...small, ...large])];
    const { messenger: m } = messenger(t, { largeGroupThreshold: 8, largeGroupsOf: (u) => (large.includes(u) ? ['group:L'] : []) });
    const devices = users.flatMap((u) => [device(m, u, 3), device(m, u, 11)]);
    for (const d of devices) await d.drain(); // register the large group before it has messages
    const expected = new Map<string, Set<string>>(users.map((u) => [u, new Set()]));
    let done = false;
    const sender = async (s: number) => {
      for (let i = 0; i < 12; i++) {
        const messageId = `s${s}-${i}`;
        const kind = i % 3;
        const conversationId = kind === 0 ? 'group:S' : kind === 1 ? 'group:L' : `dm:${s}`;
        const recipients = kind === 0 ? small : kind === 1 ? large : [users[(s + 3) % users.length]!];
        const from = kind === 0 ? small[s % small.length]! : kind === 1 ? large[s % large.length]! : users[s % users.length]!;
        const r = await m.send({ conversationId, senderId: from, recipients, message: { text: messageId }, messageId });
        expect(r.fanOut.failed).toEqual([]);
        for (const u of new Set([...recipients, from])) expected.get(u)!.add(`${conversationId}#${r.entry.seq}`);
        if (i % 4 === 0) t.advance(1);
      }
    };
    const syncer = async (d: Device) => {
      while (!done) {
        await d.drain();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const syncing = devices.map(syncer);
    try {
      await Promise.all(Array.from({ length: 8 }, (_, s) => sender(s)));
    } finally {
      done = true;
      await Promise.all(syncing);
    }
    for (const d of devices) {
      await d.drain();
      const keys = d.received.map((e) => `${e.conversationId}#${e.seq}`);
      expect(new Set(keys).size, `${d.userId} got a duplicate`).toBe(keys.length);
      expect(new Set(keys)).toEqual(expected.get(d.userId));
      const groupSeqs = d.received.filter((e) => e.conversationId === 'group:L').map((e) => e.seq);
      expect(groupSeqs.every((seq, i) => i === 0 || seq > groupSeqs[i - 1]!)).toBe(true);
    }
  });

  it('property: any interleaving of sends, syncs, limits and clock steps delivers everything exactly once', async () => {
    const users = ['u0', 'u1', 'u2', 'u3', 'u4'];
    // With a threshold of 3: dm and small fan out, large1 and large2 use read diffusion.
    const conversations: Record<string, string[]> = { dm: ['u0', 'u1'], small: ['u0', 'u1', 'u2'], large1: ['u0', 'u1', 'u2', 'u3'], large2: ['u1', 'u2', 'u3', 'u4'] };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), conversation: fc.constantFrom(...Object.keys(conversations)), sender: fc.nat(2), dt: fc.integer({ min: -5, max: 50 }) }),
      fc.record({ kind: fc.constant('sync' as const), device: fc.nat(5), limit: fc.integer({ min: 1, max: 4 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        let clock = t.now();
        const { messenger: m } = messenger(t, {
          now: () => clock,
          largeGroupThreshold: 3,
          largeGroupsOf: (u) => ['large1', 'large2'].filter((c) => conversations[c]!.includes(u)),
        });
        const owners = ['u0', 'u0', 'u1', 'u2', 'u3', 'u3'];
        const devices = owners.map((u) => new Device(u, (id, o) => m.sync(id, o)));
        for (const d of devices) await d.drain();
        const expected = new Map(users.map((u) => [u, new Set<string>()]));
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'send') {
            clock += o.dt;
            const members = conversations[o.conversation]!;
            const senderId = members[o.sender % members.length]!;
            const r = await m.send({ conversationId: o.conversation, senderId, recipients: members, message: { text: `t${n}` }, messageId: `p${n++}` });
            for (const u of members) expected.get(u)!.add(`${o.conversation}#${r.entry.seq}`);
          } else {
            const d = devices[o.device]!;
            const r = await m.sync(d.userId, { cursor: d.cursor, limit: o.limit });
            d.received.push(...r.entries);
            d.cursor = r.cursor;
          }
        }
        for (const d of devices) {
          await d.drain();
          const keys = d.received.map((e) => `${e.conversationId}#${e.seq}`);
          expect(keys.length).toBe(new Set(keys).size);
          expect(new Set(keys)).toEqual(expected.get(d.userId));
        }
      }),
      { numRuns: 15 },
    );
  });

  describe('idempotent send', () => {
    const input = (overrides: Partial<Parameters<Messenger<Chat>['send']>[0]> = {}) => ({
      conversationId: 'group:i',
      senderId: 'a',
      recipients: ['a', 'b', 'c'],
      message: { text: 'once' },
      messageId: 'same-id',
      ...overrides,
    });

    it('the same messageId twice gives one store entry and one inbox entry per recipient', async () => {
      const { messenger: m, store, sync } = messenger(t);
      const first = await m.send(input());
      const second = await m.send(input());
      expect(second.duplicate).toBe(true);
      expect(second.entry).toEqual(first.entry);
      expect(second.fanOut).toEqual(first.fanOut);
      expect(await all(store.store, 'group:i')).toHaveLength(1);
      for (const u of ['a', 'b', 'c']) expect(await all(sync.store, u)).toHaveLength(1);
    });

    it('works across processes (no shared cache), also after other messages', async () => {
      const { messenger: m1, store, sync } = messenger(t);
      const m2 = new Messenger<Chat>({ store, sync, largeGroupsOf: () => [], recentSends: 0 });
      const first = await m1.send(input());
      for (let i = 0; i < 5; i++) await m1.send(input({ messageId: `other-${i}`, message: { text: `o${i}` } }));
      const second = await m2.send(input());
      expect(second.duplicate).toBe(true);
      expect(second.entry).toEqual(first.entry);
      expect(second.fanOut.delivered).toEqual(first.fanOut.delivered);
      expect((await all(store.store, 'group:i')).filter((e) => e.messageId === 'same-id')).toHaveLength(1);
      for (const u of ['a', 'b', 'c']) expect((await all(sync.store, u)).filter((e) => e.messageId === 'same-id')).toHaveLength(1);
    });

    it('concurrent copies of one send store and fan out once', async () => {
      const { messenger: m, store, sync } = messenger(t);
      const results = await Promise.all([m.send(input()), m.send(input()), m.send(input())]);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.entry.seq)).size).toBe(1);
      expect(await all(store.store, 'group:i')).toHaveLength(1);
      for (const u of ['a', 'b', 'c']) expect(await all(sync.store, u)).toHaveLength(1);
    });

    it('a re-send re-fans-out only to the inboxes that missed it, even after an ambiguous write', async () => {
      const faulty = new FaultyBackend(t.backend);
      const { messenger: m, sync } = messenger(t, { recentSends: 0 }, faulty);
      await sync.store.init();
      faulty.fault = (row, table) => (table !== sync.store.table ? undefined : row.timelineId === 'b' ? 'fail' : row.timelineId === 'c' ? 'ambiguous' : undefined);
      const first = await m.send(input());
      expect(first.fanOut.failed.map((f) => f.receiverId).sort()).toEqual(['b', 'c']);
      faulty.fault = () => undefined;
      faulty.appendCalls.length = 0;
      const second = await m.send(input());
      expect(second.duplicate).toBe(true);
      expect(second.fanOut.failed).toEqual([]);
      expect(faulty.appendCalls.reduce((a, b) => a + b, 0)).toBe(1); // only b
      for (const u of ['a', 'b', 'c']) expect(await all(sync.store, u)).toHaveLength(1);
      const d = device(m, 'c');
      await d.drain();
      expect(d.texts()).toEqual(['once']);
    });

    it('stores nothing twice and fans out nothing when the store write fails', async () => {
      const faulty = new FaultyBackend(t.backend);
      const { messenger: m, store, sync } = messenger(t, {}, faulty);
      await store.store.init();
      faulty.fault = (_row, table) => (table === store.store.table ? 'fail' : undefined);
      await expect(m.send(input())).rejects.toMatchObject({ code: 'BACKEND' });
      for (const u of ['a', 'b', 'c']) expect(await all(sync.store, u)).toEqual([]);
      faulty.fault = () => undefined;
      const ok = await m.send(input());
      expect(ok.duplicate).toBe(false);
      expect(await all(store.store, 'group:i')).toHaveLength(1);
    });

    it('a store write that was applied but reported failed is not stored again on re-send', async () => {
      const faulty = new FaultyBackend(t.backend);
      const { messenger: m, store, sync } = messenger(t, {}, faulty);
      await store.store.init();
      faulty.fault = (_row, table) => (table === store.store.table ? 'ambiguous' : undefined);
      await expect(m.send(input())).rejects.toMatchObject({ code: 'WRITE_UNCERTAIN' });
      faulty.fault = () => undefined;
      const retry = await m.send(input());
      expect(retry.duplicate).toBe(true);
      expect(await all(store.store, 'group:i')).toHaveLength(1);
      for (const u of ['a', 'b', 'c']) expect(await all(sync.store, u)).toHaveLength(1);
    });
  });

  it('calls onDelivered after fan-out; a failing hook does not fail the send', async () => {
    const events: DeliveredEvent<Chat>[] = [];
    const { messenger: m } = messenger(t, {
      largeGroupThreshold: 3,
      largeGroupsOf: () => [],
      onDelivered: async (event) => {
        events.push(event);
        throw new Error('push service down');
      },
    });
    const r = await m.send({ conversationId: 'dm', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'h1' });
    expect(r.fanOut.delivered).toHaveLength(2);
    await m.send({ conversationId: 'big', senderId: 'a', recipients: ['b', 'c', 'd'], message: { text: 'y' }, messageId: 'h2' });
    expect(events.map((e) => [e.entry.messageId, e.mode, e.recipients])).toEqual([
      ['h1', 'write', ['b', 'a']],
      ['h2', 'read', ['b', 'c', 'd', 'a']],
    ]);
    expect(events[0]!.fanOut).toEqual(r.fanOut);
  });

  it('leaves the sender out with deliverToSender: false', async () => {
    const { messenger: m, sync } = messenger(t, { deliverToSender: false });
    const r = await m.send({ conversationId: 'dm', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 's1' });
    expect(r.fanOut.delivered.map((d) => d.receiverId)).toEqual(['b']);
    expect(await all(sync.store, 'a')).toEqual([]);
  });

  it('checkBeforeSend: false skips the read before storing; only the in-process cache recognises re-sends', async () => {
    let scans = 0;
    const counting = new Proxy(t.backend, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key === 'scan') return (...args: unknown[]) => ((scans += 1), (value as (...a: unknown[]) => unknown).apply(target, args));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const { messenger: m, store, sync } = messenger(t, { checkBeforeSend: false, journal: false }, counting);
    const sibling = (options: { checkBeforeSend?: boolean }) => new Messenger<Chat>({ store, sync, largeGroupThreshold: 500, largeGroupsOf: () => [], journal: false, ...options });
    const send = (mm: Messenger<Chat>) => mm.send({ conversationId: 'dm:nocheck', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'n1' });
    const first = await send(m);
    expect(scans).toBe(0);
    const again = await send(m);
    expect(again.duplicate).toBe(true);
    expect(again.entry.seq).toBe(first.entry.seq);
    expect(scans).toBe(0);
    // Another process (no shared cache) does not recognise it: the documented trade-off.
    const elsewhere = await sibling({ checkBeforeSend: false }).send({ conversationId: 'dm:nocheck', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'n1' });
    expect(elsewhere.duplicate).toBe(false);
    const history = await store.page('dm:nocheck', { limit: 10 });
    expect(history.entries.filter((e) => e.messageId === 'n1')).toHaveLength(2);
    // The default checks, and recognises it from any process.
    expect((await send(sibling({}))).duplicate).toBe(true);
    expect(scans).toBeGreaterThan(0);
  });

  it('rejects tampered, foreign and SyncTimeline cursors', async () => {
    const { messenger: m, sync } = messenger(t);
    await m.send({ conversationId: 'dm', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'c1' });
    const { cursor } = await m.sync('b');
    const bytes = Buffer.from(cursor, 'base64url');
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x80;
    await expect(m.sync('b', { cursor: bytes.toString('base64url') })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(m.sync('a', { cursor })).rejects.toThrow(/another receiver/);
    const { cursor: inboxCursor } = await sync.sync('b');
    await expect(m.sync('b', { cursor: inboxCursor })).rejects.toThrow(/issued by SyncTimeline\.sync/);
    await expect(sync.sync('b', { cursor })).rejects.toThrow(/issued by Messenger\.sync/);
    // Another Messenger over other tables, same secret.
    const { messenger: other } = messenger(t);
    await expect(other.sync('b', { cursor })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('rejects bad input with a named parameter and writes nothing', async () => {
    const { messenger: m, store, sync } = messenger(t);
    const history = store;
    const ok = { conversationId: 'c', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'm' };
    type In = Parameters<Messenger<Chat>['send']>[0];
    await expectInvalid(() => m.send(undefined as unknown as In), 'input');
    await expectInvalid(() => m.send({ ...ok, conversationId: '' }), 'input.conversationId');
    await expectInvalid(() => m.send({ ...ok, senderId: 3 as unknown as string }), 'input.senderId');
    await expectInvalid(() => m.send({ ...ok, recipients: 'b' as unknown as string[] }), 'input.recipients');
    await expectInvalid(() => m.send({ ...ok, recipients: ['b', ''] }), 'input.recipients[1]');
    await expectInvalid(() => m.send({ ...ok, messageId: undefined as unknown as string }), 'input.messageId');
    await expectInvalid(() => m.send({ ...ok, messageId: '' }), 'input.messageId');
    await expectInvalid(() => m.send({ ...ok, signal: 'x' as unknown as AbortSignal }), 'input.signal');
    const { message: _omitted, ...noMessage } = ok;
    await expectInvalid(() => m.send(noMessage as unknown as In), 'input.message');
    await expectInvalid(() => m.send({ ...ok, message: { text: Symbol('x') as unknown as string } }), 'input.message');
    await expectInvalid(() => m.sync(''), 'userId');
    await expectInvalid(() => m.sync('b', { limit: 0 }), 'options.limit');
    await expectInvalid(() => m.sync('b', { cursor: {} as unknown as string }), 'options.cursor');
    await expectInvalid(() => m.history(''), 'conversationId');
    await expectInvalid(() => m.history('c', { before: 1 as unknown as bigint }), 'options.before');
    await expectInvalid(() => m.history('c', { limit: Number.POSITIVE_INFINITY }), 'options.limit');
    const bad = new Messenger<Chat>({ store: history, sync, largeGroupsOf: () => 'oops' as unknown as string[] });
    await expectInvalid(() => bad.sync('b'), 'options.largeGroupsOf');
    const badItem = new Messenger<Chat>({ store: history, sync, largeGroupsOf: () => ['g', ''] });
    await expectInvalid(() => badItem.sync('b'), 'options.largeGroupsOf("b")[1]');
    const badFrom = new Messenger<Chat>({ store: history, sync, largeGroupsOf: () => [{ conversationId: 'g', from: 1 as unknown as bigint }] });
    await expectInvalid(() => badFrom.sync('b'), 'options.largeGroupsOf("b")[0].from');
    expect(await all(history.store, 'c')).toEqual([]);
    expect(await all(sync.store, 'b')).toEqual([]);

    // Constructor options.
    type Opts = ConstructorParameters<typeof Messenger<Chat>>[0];
    const base: Opts = { store: history, sync, largeGroupsOf: () => [] };
    const ctor = (o: Partial<Opts>) => () => new Messenger<Chat>({ ...base, ...o } as Opts);
    await expectInvalid(() => new Messenger<Chat>(undefined as unknown as Opts), 'options.store');
    await expectInvalid(ctor({ store: {} as Opts['store'] }), 'options.store');
    await expectInvalid(ctor({ sync: {} as Opts['sync'] }), 'options.sync');
    await expectInvalid(ctor({ largeGroupThreshold: -1 }), 'options.largeGroupThreshold');
    await expectInvalid(ctor({ largeGroupThreshold: 2.5 }), 'options.largeGroupThreshold');
    await expectInvalid(ctor({ largeGroupsOf: undefined }), 'options.largeGroupsOf');
    expect(ctor({ largeGroupsOf: undefined, largeGroupThreshold: Number.POSITIVE_INFINITY })()).toBeInstanceOf(Messenger);
    await expectInvalid(ctor({ onDelivered: 'x' as unknown as Opts['onDelivered'] }), 'options.onDelivered');
    await expectInvalid(ctor({ now: 1 as unknown as () => number }), 'options.now');
    await expectInvalid(ctor({ deliverToSender: 1 as unknown as boolean }), 'options.deliverToSender');
    await expectInvalid(ctor({ dedupeWindow: 0 }), 'options.dedupeWindow');
    await expectInvalid(ctor({ recentSends: -1 }), 'options.recentSends');
    await expectInvalid(ctor({ concurrency: 0 }), 'options.concurrency');
    // One table for both stores would mix conversation and user timelines.
    const shared = new TimelineStore<StoredMessage<Chat> & InboxMessage<Chat>>({ backend: t.backend, table: uniqueTable('im_both'), ttlSeconds: WEEK_SECONDS });
    await expectInvalid(
      () => new Messenger<Chat>({ store: new StoreTimeline(shared), sync: new SyncTimeline(shared, { cursorSecret: SECRET }), largeGroupsOf: () => [] }),
      'options.sync',
    );
  });
});
