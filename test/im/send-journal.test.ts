// The send journal: one logical send per (conversationId, messageId) across Messenger instances
// ("processes": no shared cache), crash recovery, and its request cost.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryBackend, Messenger, resolveCapabilities, StoreTimeline, SyncTimeline, TimelineError, TimelineStore, type InboxMessage, type StoredMessage, type TimelineBackend } from '../../src/index.js';
import { PassThroughBackend } from '../../src/testing/index.js';
import { backendFactories, uniqueTable, type TestBackend } from './backends.js';
import { all, SECRET, WEEK_SECONDS, type Chat } from './fixtures.js';

/**
 * A view of a backend through which one "process" talks to storage: it counts requests (timeline
 * and record calls alike) and can die at the k-th one: that call and every later one never settle,
 * as if the process had been killed while they were in flight.
 */
class Process {
  calls = 0;
  dieAt = Number.POSITIVE_INFINITY;
  readonly backend: TimelineBackend;

  constructor(inner: TimelineBackend) {
    const process = this;
    // Counts a call and, from the `dieAt`-th on, never settles it: the process died mid-request.
    const gate = <T>(call: () => Promise<T>): Promise<T> => {
      process.calls += 1;
      if (process.calls >= process.dieAt) return new Promise<T>(() => undefined);
      return call();
    };
    const records = inner.records;
    // The shared PassThroughBackend forwards everything; only the gated calls, close and the
    // absent in-place mutations (the journal never uses them) differ.
    this.backend = new (class extends PassThroughBackend {
      override append(...args: Parameters<TimelineBackend['append']>) {
        return gate(() => super.append(...args));
      }
      override get(...args: Parameters<TimelineBackend['get']>) {
        return gate(() => super.get(...args));
      }
      override scan(...args: Parameters<TimelineBackend['scan']>) {
        return gate(() => super.scan(...args));
      }
      override get records(): TimelineBackend['records'] {
        if (records === undefined) return undefined;
        return {
          recordLimits: records.recordLimits,
          ensureRecordTable: records.ensureRecordTable.bind(records),
          writeRecords: (...args) => gate(() => records.writeRecords(...args)),
          getRecord: (...args) => gate(() => records.getRecord(...args)),
          scanRecords: (...args) => gate(() => records.scanRecords(...args)),
        };
      }
      override get mutations(): TimelineBackend['mutations'] {
        return undefined;
      }
      // Each process shares the test's backend; closing a Messenger must not close it.
      override async close() {}
    })(inner);
  }
}

describe.each(backendFactories)('send journal on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  // Tables shared by several Messengers, each through its own Process.
  function tables() {
    const history = uniqueTable('im_store');
    const inbox = uniqueTable('im_sync');
    const journal = uniqueTable('im_journal');
    const open = (p: Process, options: { leaseMs?: number; claimWaitMs?: number } = {}) =>
      new Messenger<Chat>({
        store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend: p.backend, table: history })),
        sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend: p.backend, table: inbox, ttlSeconds: WEEK_SECONDS }), { cursorSecret: SECRET, now: t.now }),
        largeGroupThreshold: 5000,
        largeGroupsOf: () => [],
        now: t.now,
        journal: { table: journal, leaseMs: options.leaseMs ?? 30_000, claimWaitMs: options.claimWaitMs ?? 10_000 },
      });
    const historyStore = new TimelineStore<StoredMessage<Chat>>({ backend: t.backend, table: history });
    const inboxStore = new TimelineStore<InboxMessage<Chat>>({ backend: t.backend, table: inbox, ttlSeconds: WEEK_SECONDS });
    return { open, historyStore, inboxStore, journal };
  }

  const members = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it('costs 3 + ceil((N+1)/batch rows) requests per send (200 rows on TableStore), with no per-recipient reads', async () => {
    const { open } = tables();
    const p = new Process(t.backend);
    const m = open(p);
    await m.init();
    for (const n of [1, 100, 199, 250]) {
      const before = p.calls;
      const sent = await m.send({ conversationId: `g:${n}`, senderId: 'sender', recipients: members(n), message: { text: 'x' }, messageId: `m-${n}` });
      expect(sent.fanOut.failed).toEqual([]);
      const batchRows = resolveCapabilities(t.backend).maxBatchRows;
      expect(p.calls - before, `N = ${n}`).toBe(3 + Math.ceil((n + 1) / batchRows));
    }
  });

  it('the same message sent by three processes at once is stored once and delivered once per inbox; exactly one answers duplicate: false', async () => {
    const { open, historyStore, inboxStore } = tables();
    const procs = [0, 1, 2].map(() => new Process(t.backend));
    const ms = procs.map((p) => open(p));
    await ms[0]!.init();
    const recipients = ['alice', 'bob', 'carol'];
    for (let i = 0; i < 20; i++) {
      const results = await Promise.all(
        ms.map((m) => m.send({ conversationId: 'g:race', senderId: 'alice', recipients, message: { text: `m${i}` }, messageId: `race-${i}` })),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(results.map((r) => r.entry.seq)).size).toBe(1);
    }
    const history = await all(historyStore, 'g:race');
    expect(history.map((e) => e.messageId)).toEqual(Array.from({ length: 20 }, (_, i) => `race-${i}`));
    for (const user of recipients) {
      const inbox = await all(inboxStore, user);
      expect(inbox.map((e) => e.messageId).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `race-${i}`).sort());
    }
  });

  it('a later re-send from another process is answered from the journal without writing', async () => {
    const { open, inboxStore } = tables();
    const a = open(new Process(t.backend));
    const pb = new Process(t.backend);
    const b = open(pb);
    const first = await a.send({ conversationId: 'dm:ab', senderId: 'a', recipients: ['b'], message: { text: 'hi' }, messageId: 'once' });
    const before = pb.calls;
    const again = await b.send({ conversationId: 'dm:ab', senderId: 'a', recipients: ['b'], message: { text: 'hi' }, messageId: 'once' });
    expect(again.duplicate).toBe(true);
    expect(again.entry).toEqual(first.entry);
    expect(again.fanOut.delivered).toEqual(first.fanOut.delivered);
    // The failed claim, the journal read, the entry read: no timeline write.
    expect(pb.calls - before).toBe(3);
    expect(await all(inboxStore, 'b')).toHaveLength(1);
  });

  it('a live claim makes a concurrent send wait, or answer SEND_IN_PROGRESS with claimWaitMs: 0', async () => {
    const { open } = tables();
    const pa = new Process(t.backend);
    const a = open(pa);
    await a.init();
    pa.dieAt = pa.calls + 2; // the claim lands, the store write hangs: a live claim
    void a.send({ conversationId: 'dm:wait', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'w' });
    await vi.waitFor(() => expect(pa.calls).toBeGreaterThanOrEqual(2));
    const b = open(new Process(t.backend), { claimWaitMs: 0 });
    const error = await b.send({ conversationId: 'dm:wait', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'w' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimelineError);
    expect((error as TimelineError).code).toBe('SEND_IN_PROGRESS');
    expect((error as TimelineError).retryable).toBe(true);
    // Once the lease has expired, a re-send takes the claim over and stores the message itself.
    t.advance(30_001);
    const taken = await b.send({ conversationId: 'dm:wait', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'w' });
    expect(taken.duplicate).toBe(false);
    expect(taken.fanOut.failed).toEqual([]);
  });

  it('a process killed at every await point of a 450-member send: recover() from two other processes at once delivers exactly once, and a second pass writes nothing', async () => {
    const recipients = members(450, 'member');
    const targets = [...recipients, 'sender'];
    // One clean run counts the requests of a send, so that every point is covered.
    const probe = new Process(t.backend);
    const probeMessenger = tables().open(probe);
    await probeMessenger.init();
    const base = probe.calls;
    await probeMessenger.send({ conversationId: 'g:probe', senderId: 'sender', recipients, message: { text: 'p' }, messageId: 'p' });
    const points = probe.calls - base;
    expect(points).toBe(3 + Math.ceil(targets.length / resolveCapabilities(t.backend).maxBatchRows));
    for (let k = 1; k <= points; k++) {
      const { open, historyStore, inboxStore } = tables();
      const victim = new Process(t.backend);
      const dying = open(victim);
      await dying.init();
      victim.dieAt = victim.calls + k;
      void dying.send({ conversationId: 'g:big', senderId: 'sender', recipients, message: { text: `k${k}` }, messageId: 'crash' });
      await vi.waitFor(() => expect(victim.calls).toBeGreaterThanOrEqual(victim.dieAt));
      const survivor = open(new Process(t.backend));
      // Within the lease, recovery leaves the claim alone.
      const early = await survivor.recover();
      expect(early.completed + early.released).toBe(0);
      t.advance(30_001);
      // Two processes recover at once: one takes each send over, the other leaves it.
      const [pass, other] = await Promise.all([survivor.recover(), open(new Process(t.backend)).recover()]);
      expect(pass.rowsWritten === 0 || other.rowsWritten === 0, `crash at request ${k}: both recoverers wrote`).toBe(true);
      const stored = (await all(historyStore, 'g:big')).filter((e) => e.messageId === 'crash');
      expect(stored.length, `crash at request ${k}`).toBeLessThanOrEqual(1);
      if (stored.length === 1) {
        expect(pass.completed + other.completed + (pass.pending + other.pending === 0 ? 1 : 0), `crash at request ${k}`).toBeGreaterThanOrEqual(1);
        for (const id of targets) {
          const rows = (await all(inboxStore, id)).filter((e) => e.messageId === 'crash');
          expect(rows, `inbox ${id} after a crash at request ${k}`).toHaveLength(1);
        }
      } else {
        expect(pass.released + other.released + (pass.pending + other.pending === 0 ? 1 : 0), `crash at request ${k}`).toBeGreaterThanOrEqual(1);
        // The client's re-send is not blocked: it stores and delivers.
        const resent = await survivor.send({ conversationId: 'g:big', senderId: 'sender', recipients, message: { text: `k${k}` }, messageId: 'crash' });
        expect(resent.fanOut.failed).toEqual([]);
      }
      const second = await survivor.recover();
      expect(second.rowsWritten).toBe(0);
      expect(second.completed + second.released).toBe(0);
      // A hint the losing recoverer rewrote may outlive the send; the pass removes it (a hint is
      // only a pointer: the journal record decides), and then nothing is left.
      expect((await survivor.recover()).pending).toBe(0);
      // And a re-send after recovery is a pure duplicate.
      const dup = await survivor.send({ conversationId: 'g:big', senderId: 'sender', recipients, message: { text: `k${k}` }, messageId: 'crash' });
      expect(dup.duplicate).toBe(true);
      expect(dup.fanOut.delivered).toHaveLength(targets.length);
    }
  }, 120_000);

  it('property: racing senders, crashes and recoverers leave every message once in history and once per inbox', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ message: fc.integer({ min: 0, max: 4 }), process: fc.integer({ min: 0, max: 2 }), dieAfter: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (plan) => {
          const { open, historyStore, inboxStore } = tables();
          const recipients = ['r1', 'r2', 'r3'];
          const runs = plan.map((step) => {
            const p = new Process(t.backend);
            if (step.dieAfter !== undefined) p.dieAt = step.dieAfter;
            const m = open(p, { claimWaitMs: 0 });
            const run = { p, settled: false };
            void m
              .send({ conversationId: 'g:prop', senderId: 'r1', recipients, message: { text: `m${step.message}` }, messageId: `id-${step.message}` })
              .catch(() => undefined)
              .finally(() => (run.settled = true));
            return run;
          });
          // Killed processes never settle: wait until every run has settled or died.
          await vi.waitFor(() => expect(runs.every((r) => r.settled || r.p.calls >= r.p.dieAt)).toBe(true), { timeout: 20_000, interval: 5 });
          t.advance(30_001);
          const survivor = open(new Process(t.backend));
          await survivor.recover();
          // Every message some process tried: the client re-sends it until it succeeds.
          for (const id of new Set(plan.map((s) => s.message))) {
            const result = await survivor.send({ conversationId: 'g:prop', senderId: 'r1', recipients, message: { text: `m${id}` }, messageId: `id-${id}` });
            expect(result.fanOut.failed).toEqual([]);
          }
          const history = (await all(historyStore, 'g:prop')).map((e) => e.messageId);
          expect(history.length).toBe(new Set(history).size);
          expect(new Set(history)).toEqual(new Set([...new Set(plan.map((s) => `id-${s.message}`))]));
          for (const r of recipients) {
            const inbox = (await all(inboxStore, r)).map((e) => e.messageId);
            expect(inbox.length, `inbox ${r}`).toBe(new Set(inbox).size);
            expect(new Set(inbox)).toEqual(new Set(history));
          }
          expect((await survivor.recover()).rowsWritten).toBe(0);
        },
      ),
      { numRuns: 15, seed: 20261201 },
    );
  }, 120_000);

  it('a send whose fan-out partly failed is retried by a re-send, writing only the failed inboxes', async () => {
    const { open, inboxStore } = tables();
    const p = new Process(t.backend);
    const m = open(p);
    const sent = await m.send({ conversationId: 'g:retry', senderId: 's', recipients: ['a', 'b'], message: { text: 'x' }, messageId: 'r1' });
    expect(sent.fanOut.failed).toEqual([]);
    // A re-send naming a new recipient reaches only that one.
    const again = await open(new Process(t.backend)).send({ conversationId: 'g:retry', senderId: 's', recipients: ['a', 'b', 'c'], message: { text: 'x' }, messageId: 'r1' });
    expect(again.duplicate).toBe(true);
    expect(again.fanOut.delivered.map((d) => d.receiverId).sort()).toEqual(['a', 'b', 'c', 's']);
    for (const id of ['a', 'b', 'c', 's']) expect((await all(inboxStore, id)).filter((e) => e.messageId === 'r1'), id).toHaveLength(1);
  });
});

describe('send journal options', () => {
  const parts = (backend: TimelineBackend, storeTtl = -1, syncTtl = WEEK_SECONDS) => ({
    store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend, table: 'im_store', ttlSeconds: storeTtl })),
    sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend, table: 'im_sync', ttlSeconds: syncTtl }), { cursorSecret: SECRET }),
    largeGroupThreshold: Number.POSITIVE_INFINITY,
  });

  it('is on by default, with a table derived from the message store', async () => {
    const backend = new MemoryBackend();
    const m = new Messenger<Chat>(parts(backend));
    await m.send({ conversationId: 'c', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'm' });
    expect((await backend.records.scanRecords('im_store_journal', { partition: 'c:c', limit: 10 })).records.map((r) => r.key)).toEqual(['m']);
  });

  it('a backend without keyed records is refused at construction unless journal: false', () => {
    const inner = new MemoryBackend();
    const bare: TimelineBackend = { capabilities: inner.capabilities, ensureTable: inner.ensureTable.bind(inner), append: inner.append.bind(inner), get: inner.get.bind(inner), scan: inner.scan.bind(inner), close: inner.close.bind(inner) };
    expect(() => new Messenger<Chat>(parts(bare))).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', message: expect.stringContaining('journal: false') }));
    expect(() => new Messenger<Chat>({ ...parts(bare), journal: false })).not.toThrow();
    expect(() => new Messenger<Chat>({ ...parts(bare), journal: false, recoverEvery: 1000 })).toThrow(expect.objectContaining({ parameter: 'options.recoverEvery' }));
  });

  it('rejects a message store with a TTL or a sync store without one, unless allowed', () => {
    const backend = new MemoryBackend();
    expect(() => new Messenger<Chat>(parts(backend, 86400))).toThrow(expect.objectContaining({ parameter: 'options.store', message: expect.stringContaining('allowExpiringHistory') }));
    expect(() => new Messenger<Chat>({ ...parts(backend, 86400), allowExpiringHistory: true })).not.toThrow();
    expect(() => new Messenger<Chat>(parts(backend, -1, -1))).toThrow(expect.objectContaining({ parameter: 'options.sync', message: expect.stringContaining('allowPermanentInboxes') }));
    expect(() => new Messenger<Chat>({ ...parts(backend, -1, -1), allowPermanentInboxes: true })).not.toThrow();
    // The opt-outs are booleans: anything else is named, not read as "no".
    expect(() => new Messenger<Chat>({ ...parts(backend, 86400), allowExpiringHistory: 'yes' as never })).toThrow(expect.objectContaining({ parameter: 'options.allowExpiringHistory' }));
    expect(() => new Messenger<Chat>({ ...parts(backend, -1, -1), allowPermanentInboxes: 1 as never })).toThrow(expect.objectContaining({ parameter: 'options.allowPermanentInboxes' }));
  });

  it('validates journal options', () => {
    const backend = new MemoryBackend();
    for (const [journal, parameter] of [
      [{ table: 'bad-name' }, 'options.journal.table'],
      [{ ttlSeconds: 60 }, 'options.journal.ttlSeconds'],
      [{ leaseMs: 0 }, 'options.journal.leaseMs'],
      [{ claimWaitMs: -1 }, 'options.journal.claimWaitMs'],
      ['yes', 'options.journal'],
    ] as const) {
      expect(() => new Messenger<Chat>({ ...parts(backend), journal: journal as never }), parameter).toThrow(expect.objectContaining({ parameter }));
    }
  });

  it('recoverEvery runs recover in the background until close()', async () => {
    vi.useFakeTimers();
    try {
      const backend = new MemoryBackend();
      const m = new Messenger<Chat>({ ...parts(backend), recoverEvery: 1000 });
      const spy = vi.spyOn(backend.records, 'scanRecords');
      await vi.advanceTimersByTimeAsync(1000);
      expect(spy).toHaveBeenCalled();
      await m.close();
      spy.mockClear();
      await vi.advanceTimersByTimeAsync(5000);
      expect(spy).not.toHaveBeenCalled();
      await expect(m.send({ conversationId: 'c', senderId: 'a', recipients: [], message: { text: 'x' }, messageId: 'm' })).rejects.toMatchObject({ code: 'CLOSED' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('journal version tokens', () => {
  it('are 96 random bits in base64url, distinct across several refills of the drawn bytes', async () => {
    const { newVersion } = await import('../../src/im/send-journal.js');
    // 3,000 tokens cross at least five refills of 512: none repeats, and none is all zero bytes.
    const tokens = Array.from({ length: 3000 }, () => newVersion());
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(tokens).not.toContain('AAAAAAAAAAAAAAAA');
    // Consecutive tokens share no bytes (each takes its own 12).
    const bytes = tokens.slice(0, 600).map((t) => Buffer.from(t, 'base64url'));
    expect(bytes.every((b) => b.length === 12)).toBe(true);
    expect(bytes.every((b, i) => i === 0 || !b.equals(bytes[i - 1]!))).toBe(true);
  });
});
