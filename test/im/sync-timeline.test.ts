import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, resolveCapabilities, SyncTimeline, TimelineStore, isTimelineError, type TimelineEntry } from '../../src/index.js';
import { backendFactories, uniqueTable, type TestBackend } from './backends.js';
import { all, expectInvalid, SECRET, stores, WEEK_SECONDS, type Chat } from './fixtures.js';

const DAY = 86_400_000;

describe.each(backendFactories)('SyncTimeline on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  function inbox(options: { cursorSecret?: string | string[] } = { cursorSecret: SECRET }): SyncTimeline<Chat> {
    return new SyncTimeline(stores<Chat, Chat>(t).inbox, { ...options, now: t.now });
  }

  class SyncDevice {
    cursor: string | undefined;
    readonly got: TimelineEntry<Chat>[] = [];
    constructor(
      readonly sync: SyncTimeline<Chat>,
      readonly receiverId: string,
      readonly limit: number,
    ) {}
    async once() {
      const r = await this.sync.sync(this.receiverId, { cursor: this.cursor, limit: this.limit });
      this.got.push(...r.entries);
      this.cursor = r.cursor;
      return r;
    }
    async drain() {
      for (let calls = 0; calls < 10_000; calls++) if (!(await this.once()).hasMore) return;
      throw new Error('sync still reports hasMore after 10,000 calls');
    }
  }

  it('lets several devices sync one inbox independently, each getting every entry once, in order', async () => {
    const s = inbox();
    const phone = new SyncDevice(s, 'bob', 3);
    const laptop = new SyncDevice(s, 'bob', 4);
    const tablet = new SyncDevice(s, 'bob', 100);
    const pushed: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 4; i++) {
        const text = `r${round}-${i}`;
        pushed.push(text);
        await s.push('bob', { text }, { messageId: text });
      }
      await phone.once(); // may lag behind
      await laptop.drain();
      if (round % 2 === 0) await tablet.drain();
    }
    for (const device of [phone, laptop, tablet]) {
      await device.drain();
      expect(device.got.map((e) => e.message.text)).toEqual(pushed);
      const seqs = device.got.map((e) => e.seq);
      expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    }
    // Another receiver's inbox is separate.
    expect((await s.sync('alice')).entries).toEqual([]);
  });

  it('starts from what is retained when the cursor is undefined', async () => {
    const s = inbox();
    await s.push('bob', { text: 'old' });
    t.advance(WEEK_SECONDS * 1000 + (resolveCapabilities(t.backend).ttlGranularitySeconds + 1) * 1000);
    await s.push('bob', { text: 'new' });
    const r = await s.sync('bob');
    expect(r.entries.map((e) => e.message.text)).toEqual(['new']);
    expect(r.limited).toBe(false);
    expect(r.hasMore).toBe(false);
  });

  it('answers a cursor older than the TTL with `limited`, once', async () => {
    const s = inbox();
    await s.push('bob', { text: 'a' });
    const first = await s.sync('bob');
    expect(first.limited).toBe(false);
    await s.push('bob', { text: 'b' });
    t.advance(WEEK_SECONDS * 1000);
    await s.push('bob', { text: 'c' });
    const stale = await s.sync('bob', { cursor: first.cursor });
    expect(stale.limited).toBe(true);
    // What is still retained is delivered, and the new cursor is fresh.
    expect(stale.entries.map((e) => e.message.text)).toContain('c');
    const after = await s.sync('bob', { cursor: stale.cursor });
    expect(after).toMatchObject({ entries: [], limited: false, hasMore: false });
  });

  it('keeps an idle device that keeps polling from becoming limited', async () => {
    const s = inbox();
    await s.push('bob', { text: 'a' });
    let cursor = (await s.sync('bob')).cursor;
    for (let day = 0; day < 10; day++) {
      t.advance(DAY);
      const r = await s.sync('bob', { cursor });
      expect(r).toMatchObject({ entries: [], hasMore: false, limited: false });
      expect(r.cursor).not.toBe(cursor); // issuedAt advanced
      cursor = r.cursor;
    }
    await s.push('bob', { text: 'b' });
    expect((await s.sync('bob', { cursor })).entries.map((e) => e.message.text)).toEqual(['b']);
  });

  it('does not vouch for unread entries while a device is still catching up', async () => {
    const s = inbox();
    const caughtUp = (await s.sync('bob')).cursor; // at t0
    for (let i = 0; i < 6; i++) await s.push('bob', { text: `m${i}` }); // written at t0
    t.advance(6 * DAY);
    const partial = await s.sync('bob', { cursor: caughtUp, limit: 2 });
    expect(partial).toMatchObject({ hasMore: true, limited: false });
    // Two days later the unread entries, written at t0, are past the TTL: the cursor must say so
    // even though the last sync was only two days ago.
    t.advance(2 * DAY);
    const late = await s.sync('bob', { cursor: partial.cursor, limit: 2 });
    expect(late.limited).toBe(true);
  });

  it('rejects garbage, tampered and foreign cursors with InvalidCursorError', async () => {
    const s = inbox();
    await s.push('bob', { text: 'a' });
    const { cursor } = await s.sync('bob');
    const rejects = async (sync: SyncTimeline<Chat>, receiverId: string, bad: string, message?: RegExp) => {
      const error = await sync.sync(receiverId, { cursor: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCursorError);
      expect(isTimelineError(error, 'INVALID_CURSOR')).toBe(true);
      expect((error as Error).message).toContain('options.cursor');
      if (message) expect((error as Error).message).toMatch(message);
    };
    for (const garbage of ['', 'not a cursor!', 'AAAA', '%%%', 'x'.repeat(2_000_000)]) await rejects(s, 'bob', garbage);
    const bytes = Buffer.from(cursor, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x01;
      await rejects(s, 'bob', copy.toString('base64url'));
    }
    await rejects(s, 'bob', cursor.slice(0, -4), /truncated|signature/);
    await rejects(s, 'alice', cursor, /another receiver/);
    // Another table with the same secret, and another secret on the same table.
    await rejects(inbox(), 'bob', cursor, /signature/);
    await rejects(new SyncTimeline(s.store, { cursorSecret: 'another-secret-0123456789', now: t.now }), 'bob', cursor, /signature/);
    // Not a string at all is a ValidationError instead.
    await expectInvalid(() => s.sync('bob', { cursor: 42 as unknown as string }), 'options.cursor');
  });

  it('tamper-evidence holds for any change of any byte', async () => {
    const s = inbox();
    const { cursor } = await s.sync('bob');
    const bytes = Buffer.from(cursor, 'base64url');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (index, xor) => {
        const copy = Buffer.from(bytes);
        copy[index] = copy[index]! ^ xor;
        await expect(s.sync('bob', { cursor: copy.toString('base64url') })).rejects.toBeInstanceOf(InvalidCursorError);
      }),
      { numRuns: 100 },
    );
  });

  it('accepts exactly one spelling of a cursor: every other last character is rejected', async () => {
    const s = inbox();
    const { cursor } = await s.sync('bob');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let accepted = 0;
    for (const ch of alphabet) {
      const variant = cursor.slice(0, -1) + ch;
      const outcome = await s.sync('bob', { cursor: variant }).then(
        () => 'ok',
        (e: unknown) => (e instanceof InvalidCursorError ? 'invalid' : e),
      );
      if (outcome === 'ok') accepted += 1;
      else expect(outcome).toBe('invalid');
    }
    expect(accepted).toBe(1);
  });

  it('makes the missing secret visible: ephemeral cursors do not survive another instance', async () => {
    const store = stores<Chat, Chat>(t).inbox;
    const a = new SyncTimeline(store, { now: t.now });
    const b = new SyncTimeline(store, { now: t.now });
    expect(a.ephemeralCursors).toBe(true);
    expect(new SyncTimeline(store, { cursorSecret: SECRET }).ephemeralCursors).toBe(false);
    const { cursor } = await a.sync('bob');
    await expect(a.sync('bob', { cursor })).resolves.toMatchObject({ entries: [] });
    await expect(b.sync('bob', { cursor })).rejects.toThrow(/no `cursorSecret` is configured/i);
  });

  it('accepts cursors of a previous secret during a rotation', async () => {
    const store = stores<Chat, Chat>(t).inbox;
    const old = new SyncTimeline(store, { cursorSecret: 'old-secret-0123456789abc', now: t.now });
    await old.push('bob', { text: 'a' });
    const { cursor } = await old.sync('bob');
    const rotated = new SyncTimeline(store, { cursorSecret: ['new-secret-0123456789abc', 'old-secret-0123456789abc'], now: t.now });
    await old.push('bob', { text: 'b' });
    const r = await rotated.sync('bob', { cursor });
    expect(r.entries.map((e) => e.message.text)).toEqual(['b']);
    // New cursors are signed with the new secret only.
    await expect(old.sync('bob', { cursor: r.cursor })).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('rejects bad input with a named parameter and writes nothing', async () => {
    const s = inbox();
    expect(() => new SyncTimeline({} as TimelineStore<Chat>)).toThrow(/`store`/);
    const store = new TimelineStore<Chat>({ backend: t.backend, table: uniqueTable('im_sync'), ttlSeconds: WEEK_SECONDS });
    await expectInvalid(() => new SyncTimeline(store, { cursorSecret: 'short' }), 'options.cursorSecret');
    await expectInvalid(() => new SyncTimeline(store, { cursorSecret: [] as string[] }), 'options.cursorSecret');
    await expectInvalid(() => new SyncTimeline(store, { cursorSecret: [SECRET, 7 as unknown as string] }), 'options.cursorSecret[1]');
    await expectInvalid(() => new SyncTimeline(store, { now: 5 as unknown as () => number }), 'options.now');
    await expectInvalid(() => new SyncTimeline(store, 'x' as never), 'options');
    await expectInvalid(() => s.push('', { text: 'x' }), 'receiverId');
    await expectInvalid(() => s.push('bob', { text: 'x' }, { messageId: 5 as unknown as string }), 'options.messageId');
    await expectInvalid(() => s.push('bob', { text: Number.NaN as unknown as string }), 'message');
    await expectInvalid(() => s.push('bob', { text: 'x' }, { signal: {} as AbortSignal }), 'options.signal');
    await expectInvalid(() => s.sync('x'.repeat(2000)), 'receiverId');
    await expectInvalid(() => s.sync('bob', { limit: 0 }), 'options.limit');
    await expectInvalid(() => s.sync('bob', { limit: '5' as unknown as number }), 'options.limit');
    expect(await all(s.store, 'bob')).toEqual([]);
  });
});
