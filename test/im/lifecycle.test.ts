// Message lifecycle scenarios (recall, edit, delete-for-me) on every backend of ./backends.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Messenger, MemoryBackend, StoreTimeline, SyncTimeline, TimelineError, TimelineStore, ValidationError, type InboxMessage, type StoredMessage } from '../../src/index.js';
import { PassThroughBackend } from '../../src/testing/index.js';
import { backendFactories, uniqueTable, type TestBackend } from './backends.js';
import { all, messenger, SECRET, WEEK_SECONDS, type Chat } from './fixtures.js';
import { expectConverged, fullHistory, LifeDevice } from './lifecycle-fixtures.js';

async function rejection(fn: () => Promise<unknown>): Promise<TimelineError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TimelineError);
    return error as TimelineError;
  }
  throw new Error('expected a rejection');
}

describe.each(backendFactories)('message lifecycle on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  it('1:1 recall: the content leaves the store, a device synced before and one syncing after both end on the tombstone', async () => {
    const { messenger: m, store, sync } = messenger(t);
    const dm = 'dm:alice:bob';
    const bobPhone = new LifeDevice(m, 'bob');
    const bobLaptop = new LifeDevice(m, 'bob');
    const alicePhone = new LifeDevice(m, 'alice');
    const sent = await m.send({ conversationId: dm, senderId: 'alice', recipients: ['bob'], message: { text: 'oops, wrong chat' }, messageId: 'a-1' });
    t.advance(1000);
    await m.send({ conversationId: dm, senderId: 'bob', recipients: ['alice'], message: { text: 'hm?' }, messageId: 'b-1' });
    await bobPhone.drain();
    expect(bobPhone.view(dm).map((e) => e.message?.text)).toEqual(['hm?', 'oops, wrong chat']);

    t.advance(30_000);
    const recalled = await m.recall({ conversationId: dm, seq: sent.entry.seq, by: 'alice', requestId: 'r-1' });
    expect(recalled.duplicate).toBe(false);
    expect(recalled.mode).toBe('write');
    expect(recalled.entry).toMatchObject({ seq: sent.entry.seq, messageId: 'a-1', message: null, recalled: { by: 'alice', at: t.now() }, revision: 1 });
    expect(recalled.event).toMatchObject({ type: 'recall', conversationId: dm, seq: sent.entry.seq, by: 'alice', at: t.now(), revision: 1 });
    expect(recalled.fanOut.delivered.map((d) => d.receiverId).sort()).toEqual(['alice', 'bob']);
    // Gone from storage, not hidden: the stored entry holds no content; its seq and id are kept.
    const raw = await store.get(dm, sent.entry.seq);
    expect(raw?.messageId).toBe('a-1');
    expect(raw?.message.message).toBeNull();
    expect(JSON.stringify(raw?.message)).not.toContain('wrong chat');

    for (const device of [bobPhone, bobLaptop, alicePhone]) {
      await device.drain();
      await expectConverged(device, dm);
    }
    // The device that synced after the recall got the message and then its event (documented order).
    expect(bobLaptop.eventIds).toEqual([recalled.event!.eventId]);
    const history = await m.history(dm);
    expect(history.entries).toHaveLength(2); // the tombstone keeps its place
    expect(history.entries[1]).toMatchObject({ seq: sent.entry.seq, recalled: { by: 'alice' }, message: null });
    // Exactly one event row per inbox.
    const events = (await all(sync.store, 'bob')).filter((r) => r.message.event !== undefined);
    expect(events).toHaveLength(1);
  });

  it('idempotent by request id: the same recall or edit twice writes one event; a new request id is bad input', async () => {
    const { messenger: m, sync } = messenger(t);
    const dm = 'dm:carol:dan';
    const sent = await m.send({ conversationId: dm, senderId: 'carol', recipients: ['dan'], message: { text: 'v1' }, messageId: 'c-1' });
    const first = await m.edit({ conversationId: dm, seq: sent.entry.seq, by: 'carol', requestId: 'e-1', message: { text: 'v2' }, recipients: ['dan'] });
    const again = await m.edit({ conversationId: dm, seq: sent.entry.seq, by: 'carol', requestId: 'e-1', message: { text: 'v2' }, recipients: ['dan'] });
    expect(again.duplicate).toBe(true);
    expect(again.event).toBeUndefined();
    expect(again.entry).toEqual(first.entry);
    const r1 = await m.recall({ conversationId: dm, seq: sent.entry.seq, by: 'carol', requestId: 'r-1' });
    const r2 = await m.recall({ conversationId: dm, seq: sent.entry.seq, by: 'carol', requestId: 'r-1' });
    expect(r2).toMatchObject({ duplicate: true, entry: r1.entry });
    const eventRows = (await all(sync.store, 'dan')).filter((r) => r.message.event !== undefined);
    expect(eventRows.map((r) => r.message.event!.type)).toEqual(['edit', 'recall']);
    const error = await rejection(() => m.recall({ conversationId: dm, seq: sent.entry.seq, by: 'carol', requestId: 'r-2' }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).parameter).toBe('input.seq');
    expect(error.message).toMatch(/recalled/);
  });

  it('group of 5 with 3 devices each: edit twice then recall; devices before, between and after converge to history', async () => {
    const { messenger: m } = messenger(t);
    const group = 'group:five';
    const members = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const devices = members.flatMap((u) => [new LifeDevice(m, u, 2), new LifeDevice(m, u, 3), new LifeDevice(m, u, 50)]);
    const sent = await m.send({ conversationId: group, senderId: 'u1', recipients: members.filter((u) => u !== 'u1'), message: { text: 'draft' }, messageId: 'g-1' });
    await m.send({ conversationId: group, senderId: 'u2', recipients: members.filter((u) => u !== 'u2'), message: { text: 'ok' }, messageId: 'g-2' });
    for (const d of devices.filter((_, i) => i % 3 === 0)) await d.drain(); // synced before any change
    t.advance(10_000);
    const e1 = await m.edit({ conversationId: group, seq: sent.entry.seq, by: 'u1', requestId: 'e1', message: { text: 'draft 2' } });
    for (const d of devices.filter((_, i) => i % 3 === 1)) await d.drain(); // synced between
    t.advance(10_000);
    const e2 = await m.edit({ conversationId: group, seq: sent.entry.seq, by: 'u1', requestId: 'e2', message: { text: 'final' } });
    expect(e1.entry).toMatchObject({ editCount: 1, revision: 1, message: { text: 'draft 2' } });
    expect(e2.entry).toMatchObject({ editCount: 2, revision: 2, message: { text: 'final' }, editedAt: t.now() });
    const mid = await m.history(group);
    expect(mid.entries[1]).toMatchObject({ message: { text: 'final' }, editCount: 2 });
    t.advance(10_000);
    await m.recall({ conversationId: group, seq: sent.entry.seq, by: 'u1', requestId: 'r' });
    for (const d of devices) {
      await d.drain();
      await expectConverged(d, group);
    }
    const final = await fullHistory(m, group);
    expect(final.map((e) => e.seq)).toEqual([final[0]!.seq, sent.entry.seq]);
    expect(final[1]).toMatchObject({ recalled: { by: 'u1' }, revision: 3, message: null });
  });

  it('delete-for-me: hidden from that user\'s history view and devices only', async () => {
    const { messenger: m } = messenger(t);
    const dm = 'dm:eve:fay';
    const seqs = [];
    for (let i = 0; i < 5; i++) {
      seqs.push((await m.send({ conversationId: dm, senderId: 'eve', recipients: ['fay'], message: { text: `m${i}` }, messageId: `m${i}` })).entry.seq);
    }
    const fayPhone = new LifeDevice(m, 'fay', 2);
    await fayPhone.drain();
    const result = await m.deleteForMe({ userId: 'fay', conversationId: dm, seq: seqs[2]! });
    expect(result).toMatchObject({ duplicate: false, event: { type: 'delete', by: 'fay', seq: seqs[2] } });
    expect((await m.deleteForMe({ userId: 'fay', conversationId: dm, seq: seqs[2]! })).duplicate).toBe(true);
    const fayLaptop = new LifeDevice(m, 'fay', 2);
    const evePhone = new LifeDevice(m, 'eve', 2);
    for (const d of [fayPhone, fayLaptop, evePhone]) {
      await d.drain();
      await expectConverged(d, dm);
    }
    expect(fayLaptop.view(dm).map((e) => e.message.text)).toEqual(['m4', 'm3', 'm1', 'm0']);
    expect(evePhone.view(dm).map((e) => e.message.text)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(fayLaptop.eventIds).toHaveLength(1); // the repeated delete wrote no second event
    // Paging the per-user view never shifts and never skips.
    for (const limit of [1, 2, 10]) expect((await fullHistory(m, dm, 'fay', limit)).map((e) => e.message.text)).toEqual(['m4', 'm3', 'm1', 'm0']);
    expect((await fullHistory(m, dm)).map((e) => e.message.text)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
  });

  it('a 2,000-member read-diffusion group: one event entry in the group timeline reaches every member, no inbox written', async () => {
    const group = 'group:huge';
    const members = Array.from({ length: 2000 }, (_, i) => `member${i}`);
    const { messenger: m, sync } = messenger(t, { largeGroupThreshold: 500, largeGroupsOf: () => [{ conversationId: group, from: 0n }] });
    const sent = await m.send({ conversationId: group, senderId: 'member0', recipients: members, message: { text: 'announcement' }, messageId: 'h-1' });
    expect(sent.mode).toBe('read');
    const early = [new LifeDevice(m, 'member7', 1), new LifeDevice(m, 'member1999', 4)];
    for (const d of early) await d.drain();
    t.advance(5000);
    const recalled = await m.recall({ conversationId: group, seq: sent.entry.seq, by: 'member0', requestId: 'hr' });
    expect(recalled.mode).toBe('read');
    expect(recalled.fanOut.delivered).toEqual([]);
    const late = [new LifeDevice(m, 'member3'), new LifeDevice(m, 'member0')];
    for (const d of [...early, ...late]) {
      await d.drain();
      await expectConverged(d, group);
      expect(d.view(group)[0]).toMatchObject({ seq: sent.entry.seq, recalled: { by: 'member0' } });
    }
    expect(await all(sync.store, 'member7')).toEqual([]);
    // The event entry is not a message: history still holds one entry.
    expect((await fullHistory(m, group)).map((e) => e.seq)).toEqual([sent.entry.seq]);
  });

  it('a device whose cursor is older than the inbox TTL is told `limited` and refetches history in its final state', async () => {
    const { messenger: m } = messenger(t);
    const dm = 'dm:gus:hal';
    const old = new LifeDevice(m, 'hal');
    const sent = await m.send({ conversationId: dm, senderId: 'gus', recipients: ['hal'], message: { text: 'first' }, messageId: 'g1' });
    await old.drain();
    t.advance(60_000);
    await m.edit({ conversationId: dm, seq: sent.entry.seq, by: 'gus', requestId: 'ge', message: { text: 'first (edited)' } });
    t.advance(WEEK_SECONDS * 1000 + 60_000);
    await m.send({ conversationId: dm, senderId: 'gus', recipients: ['hal'], message: { text: 'second' }, messageId: 'g2' });
    const result = await m.sync('hal', { cursor: old.cursor });
    expect(result.limited).toBe(true);
    // The edit event expired with the inbox; history has the final state.
    expect(result.events).toEqual([]);
    const refetched = await fullHistory(m, dm, 'hal');
    expect(refetched.map((e) => e.message.text)).toEqual(['second', 'first (edited)']);
    expect(refetched[1]).toMatchObject({ editCount: 1, revision: 1 });
  });

  it('bad input: a TimelineError naming the problem, and nothing written', async () => {
    const { messenger: m, store, sync } = messenger(t, { lifecycle: { recallWindowMs: 60_000 } });
    const dm = 'dm:ida:jon';
    const sent = await m.send({ conversationId: dm, senderId: 'ida', recipients: ['jon'], message: { text: 'hello' }, messageId: 'i1' });
    const snapshot = async () => ({ store: await all(store.store, dm), ida: await all(sync.store, 'ida'), jon: await all(sync.store, 'jon') });
    const before = await snapshot();
    const seq = sent.entry.seq;
    const base = { conversationId: dm, by: 'ida', recipients: ['jon'] };

    const notFound = await rejection(() => m.recall({ ...base, seq: seq + 1_000_000n, requestId: 'x1' }));
    expect(notFound.code).toBe('NOT_FOUND');
    expect(notFound.message).toContain(`seq ${seq + 1_000_000n}`);
    expect((await rejection(() => m.edit({ ...base, conversationId: 'dm:other', seq, requestId: 'x2', message: { text: 'z' } }))).code).toBe('NOT_FOUND');
    const wrongUser = await rejection(() => m.edit({ ...base, by: 'jon', seq, requestId: 'x3', message: { text: 'mine now' } }));
    expect(wrongUser.code).toBe('FORBIDDEN');
    expect(wrongUser.message).toMatch(/only its sender \("ida"\)/);
    const tooBig = await rejection(() => m.edit({ ...base, seq, requestId: 'x4', message: { text: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(tooBig).toBeInstanceOf(ValidationError);
    expect((tooBig as ValidationError).parameter).toBe('input.message');
    expect(tooBig.code).toBe('MESSAGE_TOO_LARGE');
    expect(((await rejection(() => m.recall({ ...base, seq, requestId: '' }))) as ValidationError).parameter).toBe('input.requestId');
    expect(((await rejection(() => m.recall({ ...base, seq: -1n, requestId: 'x5' }))) as ValidationError).parameter).toBe('input.seq');
    expect(((await rejection(() => m.deleteForMe({ userId: 'jon', conversationId: dm, seq: seq + 7n }))).code)).toBe('NOT_FOUND');
    t.advance(60_001);
    const late = await rejection(() => m.recall({ ...base, seq, requestId: 'x6' }));
    expect(late.code).toBe('FORBIDDEN');
    expect(late.message).toMatch(/recall window \(60000 ms/);
    expect(await snapshot()).toEqual(before);

    // A recalled message: neither recalled again nor edited.
    const custom = messenger(t, { canModify: ({ by }) => by === 'ida' });
    const s2 = await custom.messenger.send({ conversationId: dm, senderId: 'ida', recipients: ['jon'], message: { text: 'a' }, messageId: 'k1' });
    t.advance(10 * 60_000); // a custom rule without a window
    await custom.messenger.recall({ ...base, seq: s2.entry.seq, requestId: 'k-r1' });
    const editDead = await rejection(() => custom.messenger.edit({ ...base, seq: s2.entry.seq, requestId: 'k-e', message: { text: 'b' } }));
    expect(editDead).toBeInstanceOf(ValidationError);
    expect(editDead.message).toMatch(/was recalled by "ida"; a recalled message cannot be edited/);
  });

  it('racing edits from two devices serialise: one final state, every device converges to it', async () => {
    const { messenger: m } = messenger(t);
    const dm = 'dm:kim:lee';
    const sent = await m.send({ conversationId: dm, senderId: 'kim', recipients: ['lee'], message: { text: 'v0' }, messageId: 'k0' });
    const edits = await Promise.all(
      ['phone', 'laptop', 'tablet'].map((device) => m.edit({ conversationId: dm, seq: sent.entry.seq, by: 'kim', requestId: `e-${device}`, message: { text: device } })),
    );
    expect(edits.map((e) => e.entry.revision).sort()).toEqual([1, 2, 3]);
    const winner = edits.find((e) => e.entry.revision === 3)!;
    const history = await fullHistory(m, dm);
    expect(history[0]).toMatchObject({ message: winner.entry.message, editCount: 3, revision: 3 });
    for (const d of [new LifeDevice(m, 'kim', 1), new LifeDevice(m, 'lee', 2), new LifeDevice(m, 'lee', 9)]) {
      await d.drain();
      await expectConverged(d, dm);
    }
  });
});

describe('lifecycle availability', () => {
  const parts = (backend: ConstructorParameters<typeof TimelineStore>[0]['backend']) => ({
    store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend, table: uniqueTable('s') })),
    sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend: new MemoryBackend(), table: uniqueTable('i'), ttlSeconds: WEEK_SECONDS }), { cursorSecret: SECRET }),
    largeGroupThreshold: Number.POSITIVE_INFINITY,
  });
  class NoMutations extends PassThroughBackend {
    override get mutations() {
      return undefined;
    }
  }

  it('a backend without in-place update: off by default (methods say why), refused at construction when asked for', async () => {
    const backend = new NoMutations(new MemoryBackend());
    const m = new Messenger<Chat>(parts(backend));
    const error = await rejection(() => m.recall({ conversationId: 'c', seq: 1n, by: 'a', requestId: 'r', recipients: [] }));
    expect(error.code).toBe('NOT_SUPPORTED');
    expect(error.message).toMatch(/in-place update/);
    expect(() => new Messenger<Chat>({ ...parts(backend), lifecycle: {} })).toThrow(/in-place update/);
    expect(() => new Messenger<Chat>({ ...parts(backend), lifecycle: { recallWindowMs: -1 } })).toThrow(/recallWindowMs/);
    const off = new Messenger<Chat>({ ...parts(new MemoryBackend()), lifecycle: false });
    expect((await rejection(() => off.edit({ conversationId: 'c', seq: 1n, by: 'a', requestId: 'r', message: { text: '' } }))).message).toMatch(/lifecycle: false/);
  });
});
