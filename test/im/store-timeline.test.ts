import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SEQ, StoreTimeline, TimelineStore } from '../../src/index.js';
import { backendFactories, type TestBackend } from './backends.js';
import { all, expectInvalid, stores, type Chat } from './fixtures.js';

describe.each(backendFactories)('StoreTimeline on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  function history(): StoreTimeline<Chat> {
    return new StoreTimeline(stores<Chat, Chat>(t).history);
  }

  it('roams a long history newest first, page by page, with nothing missed or repeated', async () => {
    const h = history();
    const appended = [];
    for (let i = 0; i < 23; i++) appended.push(await h.append('group:1', { text: `m${i}` }, { messageId: `id-${i}` }));
    const seen: string[] = [];
    let page = await h.page('group:1', { limit: 5 });
    let pages = 1;
    seen.push(...page.entries.map((e) => e.message.text));
    while (page.hasMore) {
      expect(page.next).toBe(page.entries[page.entries.length - 1]!.seq);
      page = await h.page('group:1', { before: page.next, limit: 5 });
      pages += 1;
      seen.push(...page.entries.map((e) => e.message.text));
    }
    expect(pages).toBe(5);
    expect(page.next).toBeUndefined();
    expect(seen).toEqual(appended.map((e) => e.message.text).reverse());
    // Entries carry their message id and strictly decreasing seqs.
    const first = await h.page('group:1', { limit: 3 });
    expect(first.entries.map((e) => e.messageId)).toEqual(['id-22', 'id-21', 'id-20']);
    expect(first.entries[0]!.seq > first.entries[1]!.seq).toBe(true);
  });

  it('reports hasMore exactly when the page is full and more exist', async () => {
    const h = history();
    for (let i = 0; i < 4; i++) await h.append('c', { text: `m${i}` });
    const exact = await h.page('c', { limit: 4 });
    expect(exact.entries).toHaveLength(4);
    expect(exact.hasMore).toBe(false);
    expect(exact.next).toBeUndefined();
    expect(await h.page('empty')).toEqual({ entries: [], next: undefined, hasMore: false });
    expect(await h.page('c', { before: 0n })).toEqual({ entries: [], next: undefined, hasMore: false });
  });

  it('reads forward after a seq with `since`, and can poll with `next`', async () => {
    const h = history();
    const e = [];
    for (let i = 0; i < 6; i++) e.push(await h.append('c', { text: `m${i}` }));
    const r1 = await h.since('c', { limit: 4 });
    expect(r1.entries.map((x) => x.message.text)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(r1.hasMore).toBe(true);
    const r2 = await h.since('c', { after: r1.next, limit: 4 });
    expect(r2.entries.map((x) => x.message.text)).toEqual(['m4', 'm5']);
    expect(r2.hasMore).toBe(false);
    expect(r2.next).toBe(e[5]!.seq);
    const r3 = await h.since('c', { after: r2.next });
    expect(r3).toEqual({ entries: [], next: e[5]!.seq, hasMore: false });
    await h.append('c', { text: 'm6' });
    expect((await h.since('c', { after: r3.next })).entries.map((x) => x.message.text)).toEqual(['m6']);
    expect(await h.since('c', { after: MAX_SEQ })).toEqual({ entries: [], next: MAX_SEQ, hasMore: false });
  });

  it('gets one entry by seq and the latest entry', async () => {
    const h = history();
    const a = await h.append('c', { text: 'a' }, { messageId: 'x' });
    const b = await h.append('c', { text: 'b' });
    expect(await h.get('c', a.seq)).toEqual(a);
    expect(await h.get('c', b.seq + 1n)).toBeUndefined();
    expect(await h.get('other', a.seq)).toBeUndefined();
    expect(await h.latest('c')).toEqual(b);
    expect(await h.latest('nothing')).toBeUndefined();
  });

  it('rejects bad input with a named parameter and writes nothing', async () => {
    const h = history();
    expect(() => new StoreTimeline({} as TimelineStore<Chat>)).toThrow(/`store`/);
    await expectInvalid(() => h.append('', { text: 'x' }), 'conversationId');
    await expectInvalid(() => h.append('c', { text: 'x' }, { messageId: '' }), 'options.messageId');
    await expectInvalid(() => h.append('c', { text: 'x' }, 'nope' as never), 'options');
    await expectInvalid(() => h.append('c', { text: 1n as unknown as string, bad: () => 1 } as unknown as Chat), 'message');
    await expectInvalid(() => h.page('c', { limit: 0 }), 'options.limit');
    await expectInvalid(() => h.page('c', { limit: 1.5 }), 'options.limit');
    await expectInvalid(() => h.page('c', { before: 5 as unknown as bigint }), 'options.before');
    await expectInvalid(() => h.page(42 as unknown as string), 'conversationId');
    await expectInvalid(() => h.since('c', { after: -1n }), 'options.after');
    await expectInvalid(() => h.since('c', { limit: -3 }), 'options.limit');
    await expectInvalid(() => h.get('c', 1 as unknown as bigint), 'seq');
    await expectInvalid(() => h.get('c', 1n, { signal: 'x' as unknown as AbortSignal }), 'options.signal');
    await expectInvalid(() => h.latest(''), 'conversationId');
    expect(await all(h.store, 'c')).toEqual([]);
  });
});
