import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, MemoryBackend, Messenger, TimelineError, type ConversationItem, type ReadEvent, type TimelineBackend } from '../../src/index.js';
import { backendFactories, type TestBackend } from './backends.js';
import { expectInvalid, messenger, type Chat } from './fixtures.js';

const ME = 'u0';
const BIG = 'group:big';
const BIG_MEMBERS = [ME, 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'];

/** Every page of a user's list, following `next` (bounded). */
async function allPages(m: Messenger<Chat>, userId: string, limit: number): Promise<ConversationItem<Chat>[]> {
  const items: ConversationItem<Chat>[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await m.conversations(userId, { limit, ...(cursor === undefined ? {} : { cursor }) });
    items.push(...page.items);
    if (page.next === undefined) return items;
    cursor = page.next;
  }
  throw new Error('conversations() kept returning `next` after 100 pages');
}

describe.each(backendFactories)('conversations on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  // Threshold 6: the groups of 5 fan out; the group of 8 is read-diffused.
  const build = () =>
    messenger(t, { conversations: { unreadCap: 9 }, largeGroupThreshold: 6, largeGroupsOf: (u) => (BIG_MEMBERS.includes(u) ? [{ conversationId: BIG, from: 0n }] : []) }).messenger;

  // 20 direct chats, 9 groups of 5 and one read-diffused group of 8: one message each, from
  // someone else, one second apart (the oldest first).
  async function thirty(m: Messenger<Chat>) {
    const conversations: { id: string; members: string[] }[] = [];
    for (let i = 0; i < 20; i++) conversations.push({ id: `dm:${i}`, members: [ME, `p${i}`] });
    for (let j = 0; j < 9; j++) conversations.push({ id: `group:${j}`, members: [ME, `g${j}a`, `g${j}b`, `g${j}c`, `g${j}d`] });
    conversations.push({ id: BIG, members: BIG_MEMBERS });
    const seqs = new Map<string, bigint>();
    for (const [n, c] of conversations.entries()) {
      t.advance(1000);
      const sent = await m.send({ conversationId: c.id, senderId: c.members[1]!, recipients: c.members.filter((u) => u !== c.members[1]), message: { text: `hello ${n}` }, messageId: `m-${c.id}` });
      seqs.set(c.id, sent.entry.seq);
    }
    return { conversations, seqs };
  }

  it('30 conversations on 3 devices: order, stable paging while messages arrive, unread cleared from another device', async () => {
    const m = build();
    const { conversations, seqs } = await thirty(m);
    const newestFirst = conversations.map((c) => c.id).reverse();

    // Every device sees the same list: newest activity first, one unread message each.
    const [phone, laptop, tablet] = [await allPages(m, ME, 7), await allPages(m, ME, 30), await allPages(m, ME, 4)];
    for (const list of [phone, laptop, tablet]) {
      expect(list.map((i) => i.conversationId)).toEqual(newestFirst);
      expect(list.every((i) => i.unread === 1 && !i.unreadCapped && i.readSeq === undefined)).toBe(true);
    }
    const big = phone[0]!;
    expect(big).toMatchObject({ conversationId: BIG, kind: 'group', diffusion: 'read', lastMessage: { message: { text: 'hello 29' }, seq: seqs.get(BIG) } });
    expect(phone.find((i) => i.conversationId === 'dm:0')).toMatchObject({ kind: 'direct', diffusion: 'write', lastMessage: { message: { text: 'hello 0' } } });
    expect(phone.find((i) => i.conversationId === 'group:0')?.kind).toBe('group');

    // Paging while messages arrive: an item already on a later page moves to the top and is not
    // returned twice in the same pass; the others keep their order.
    const first = await m.conversations(ME, { limit: 10 });
    t.advance(1000);
    await m.send({ conversationId: 'dm:3', senderId: 'p3', recipients: [ME], message: { text: 'again' }, messageId: 'again-3' });
    const rest: ConversationItem<Chat>[] = [];
    let cursor = first.next;
    for (let i = 0; cursor !== undefined && i < 10; i++) {
      const page = await m.conversations(ME, { limit: 10, cursor });
      rest.push(...page.items);
      cursor = page.next;
    }
    const seen = [...first.items, ...rest].map((i) => i.conversationId);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(newestFirst.filter((id) => id !== 'dm:3'));
    const top = await m.conversations(ME, { limit: 1 });
    expect(top.items[0]).toMatchObject({ conversationId: 'dm:3', unread: 2, lastMessage: { message: { text: 'again' } } });

    // The phone reads dm:3 and the big group; the laptop's list and sync agree.
    const syncBefore = await m.sync(ME, { limit: 100 });
    expect(await m.markRead({ userId: ME, conversationId: 'dm:3', seq: top.items[0]!.lastMessage!.seq })).toMatchObject({ advanced: true, notified: true });
    expect(await m.markRead({ userId: ME, conversationId: BIG, seq: seqs.get(BIG)! })).toMatchObject({ advanced: true, notified: true });
    const after = await allPages(m, ME, 30);
    expect(after.find((i) => i.conversationId === 'dm:3')).toMatchObject({ unread: 0, readSeq: top.items[0]!.lastMessage!.seq });
    expect(after.find((i) => i.conversationId === BIG)).toMatchObject({ unread: 0, readSeq: seqs.get(BIG) });
    expect(after.filter((i) => i.unread > 0)).toHaveLength(28);
    const events = (await m.sync(ME, { cursor: syncBefore.cursor, limit: 100 })).events;
    expect(events.map((e) => [e.type, e.conversationId, (e as ReadEvent).seq])).toEqual([
      ['read', 'dm:3', top.items[0]!.lastMessage!.seq],
      ['read', BIG, seqs.get(BIG)],
    ]);
  });

  it('unread: own messages never count, the cap holds, and a reply implies having read', async () => {
    const m = build();
    const dm = 'dm:cap';
    let last = 0n;
    for (let i = 0; i < 12; i++) {
      t.advance(10);
      last = (await m.send({ conversationId: dm, senderId: 'x', recipients: [ME], message: { text: `x${i}` }, messageId: `x${i}` })).entry.seq;
    }
    expect((await m.conversations(ME)).items[0]).toMatchObject({ conversationId: dm, unread: 9, unreadCapped: true });
    expect((await m.conversations('x')).items[0]).toMatchObject({ conversationId: dm, unread: 0, unreadCapped: false });
    t.advance(10);
    await m.send({ conversationId: dm, senderId: ME, recipients: ['x'], message: { text: 'mine' }, messageId: 'mine' });
    expect((await m.conversations(ME)).items[0]).toMatchObject({ unread: 0, lastMessage: { message: { text: 'mine' } } });
    expect((await m.conversations('x')).items[0]).toMatchObject({ unread: 1 });
    t.advance(10);
    await m.send({ conversationId: dm, senderId: 'x', recipients: [ME], message: { text: 'after' }, messageId: 'after' });
    expect((await m.conversations(ME)).items[0]).toMatchObject({ unread: 1 });
    expect(last).toBeGreaterThan(0n);
  });

  it('read positions only move forward: three devices at once, a stale device, a seq beyond the newest', async () => {
    const m = build();
    const dm = 'dm:race';
    const seqs: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      t.advance(10);
      seqs.push((await m.send({ conversationId: dm, senderId: 'x', recipients: [ME], message: { text: `${i}` }, messageId: `r${i}` })).entry.seq);
    }
    const results = await Promise.all([seqs[1]!, seqs[3]!, seqs[2]!].map((seq) => m.markRead({ userId: ME, conversationId: dm, seq })));
    expect(results.some((r) => r.advanced)).toBe(true);
    const item = (await m.conversations(ME)).items[0]!;
    expect(item).toMatchObject({ readSeq: seqs[3], unread: 1 });
    // A stale device cannot move it back.
    expect(await m.markRead({ userId: ME, conversationId: dm, seq: seqs[0]! })).toEqual({ seq: seqs[0], advanced: false, notified: false });
    expect((await m.conversations(ME)).items[0]).toMatchObject({ readSeq: seqs[3], unread: 1 });
    // Beyond the newest: clamped, so later messages still count.
    expect(await m.markRead({ userId: ME, conversationId: dm, seq: seqs[4]! + 10n ** 12n })).toMatchObject({ seq: seqs[4], advanced: true });
    t.advance(10);
    await m.send({ conversationId: dm, senderId: 'x', recipients: [ME], message: { text: 'next' }, messageId: 'r-next' });
    expect((await m.conversations(ME)).items[0]).toMatchObject({ readSeq: seqs[4], unread: 1 });

    // markRead racing a send: the count is right whichever lands first.
    t.advance(10);
    const [sent, marked] = await Promise.all([
      m.send({ conversationId: dm, senderId: 'x', recipients: [ME], message: { text: 'racing' }, messageId: 'r-race' }),
      m.markRead({ userId: ME, conversationId: dm, seq: seqs[4]! + 10n ** 15n }),
    ]);
    const now = (await m.conversations(ME)).items[0]!;
    expect(now.readSeq).toBe(marked.seq);
    expect(now.unread).toBe(marked.seq >= sent.entry.seq ? 0 : 1);
  });

  it('bad input: unknown conversation, a non-member, invalid values, a foreign cursor, conversations off', async () => {
    const m = build();
    await m.send({ conversationId: 'dm:bad', senderId: 'x', recipients: [ME], message: { text: 'hi' }, messageId: 'bad-1' });
    const unknown = await expectInvalid(() => m.markRead({ userId: ME, conversationId: 'dm:none', seq: 1n }), 'input.conversationId');
    expect(unknown.message).toContain('has no messages');
    const stranger = await expectInvalid(() => m.markRead({ userId: 'stranger', conversationId: 'dm:bad', seq: 1n }), 'input.userId');
    expect(stranger.message).toContain('not a member');
    await expectInvalid(() => m.markRead({ userId: ME, conversationId: 'dm:bad', seq: 1 as unknown as bigint }), 'input.seq');
    await expectInvalid(() => m.markRead({ userId: ME, conversationId: 'dm:bad', seq: -1n }), 'input.seq');
    await expectInvalid(() => m.conversations(ME, { limit: 0 }), 'options.limit');
    await expectInvalid(() => m.conversations(''), 'userId');
    const next = (await m.conversations('x', { limit: 1 })).next;
    expect(next).toBeUndefined();
    await expect(m.conversations(ME, { cursor: 'garbage' })).rejects.toBeInstanceOf(InvalidCursorError);
    const foreign = Buffer.from(JSON.stringify([1, 'x', 0, 'dm:bad'])).toString('base64url');
    await expect(m.conversations(ME, { cursor: foreign })).rejects.toThrow(/another user/);
    await expect(m.readReceipts({ conversationId: BIG, seq: 1n, members: [...BIG_MEMBERS] })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    expect(() => messenger(t, { conversations: 'yes' as never })).toThrow(/options.conversations/);
    expect(() => messenger(t, { conversations: { unreadCap: 0 } })).toThrow(/options.conversations.unreadCap/);
    expect(() => messenger(t, { conversations: { table: '1bad' } })).toThrow(/options.conversations.table/);
    expect(() => messenger(t, { conversations: { maxRows: -1 } })).toThrow(/options.conversations.maxRows/);
    const inner = new MemoryBackend();
    const bare: TimelineBackend = { capabilities: inner.capabilities, ensureTable: inner.ensureTable.bind(inner), append: inner.append.bind(inner), get: inner.get.bind(inner), scan: inner.scan.bind(inner), close: inner.close.bind(inner) };
    expect(() => messenger(t, { journal: false, conversations: {} }, bare)).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', message: expect.stringContaining('keyed-record capability') }));
    const off = messenger(t).messenger;
    await expect(off.conversations(ME)).rejects.toSatisfy((e: unknown) => e instanceof TimelineError && e.code === 'NOT_SUPPORTED' && e.message.includes('conversations: {}'));
  });

  it('counts after a recall and an edit: the tombstone is the last message, not unread', async () => {
    const m = build();
    const group = 'group:recall';
    const members = [ME, 'a', 'b'];
    const seqs: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      t.advance(10);
      seqs.push((await m.send({ conversationId: group, senderId: 'a', recipients: [ME, 'b'], message: { text: `a${i}` }, messageId: `rc${i}` })).entry.seq);
    }
    expect((await m.conversations(ME)).items[0]).toMatchObject({ conversationId: group, unread: 3 });
    t.advance(10);
    await m.recall({ conversationId: group, seq: seqs[2]!, by: 'a', requestId: 'recall-1', recipients: members });
    await m.edit({ conversationId: group, seq: seqs[1]!, by: 'a', requestId: 'edit-1', recipients: members, message: { text: 'a1 (edited)' } });
    for (const user of [ME, 'b']) {
      const item = (await m.conversations(user)).items[0]!;
      expect(item).toMatchObject({ conversationId: group, unread: 2, lastMessage: { seq: seqs[2], recalled: { by: 'a' } } });
    }
    await m.markRead({ userId: ME, conversationId: group, seq: seqs[1]! });
    expect((await m.conversations(ME)).items[0]).toMatchObject({ unread: 0 });
    await m.recall({ conversationId: group, seq: seqs[0]!, by: 'a', requestId: 'recall-0', recipients: members });
    expect((await m.conversations('b')).items[0]).toMatchObject({ unread: 1 });
    expect((await m.conversations('a')).items[0]).toMatchObject({ unread: 0 });
  });

  it('receipts in a group of 5', async () => {
    const m = build();
    const group = 'group:five';
    const members = [ME, 'a', 'b', 'c', 'd'];
    const seqs: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      t.advance(10);
      seqs.push((await m.send({ conversationId: group, senderId: ME, recipients: members.slice(1), message: { text: `${i}` }, messageId: `f${i}` })).entry.seq);
    }
    await m.markRead({ userId: 'a', conversationId: group, seq: seqs[2]! });
    await m.markRead({ userId: 'b', conversationId: group, seq: seqs[0]! });
    await m.markRead({ userId: 'c', conversationId: group, seq: seqs[1]! });
    expect(await m.readReceipts({ conversationId: group, seq: seqs[1]!, members })).toEqual({ readBy: ['a', 'c'], notReadBy: ['b', 'd', ME] });
    expect(await m.readReceipts({ conversationId: group, seq: seqs[0]! })).toEqual({ readBy: ['a', 'b', 'c'], notReadBy: undefined });
    // A stale read by 'a' changes nothing.
    await m.markRead({ userId: 'a', conversationId: group, seq: seqs[0]! });
    expect((await m.readReceipts({ conversationId: group, seq: seqs[2]!, members })).readBy).toEqual(['a']);
  });
});
