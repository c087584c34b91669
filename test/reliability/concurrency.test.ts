// Concurrency, as properties (fast-check, fixed seeds): many concurrent writers and senders, many
// devices syncing while they write, on both backends. No device ever misses or repeats an entry,
// and a device reads its inbox in seq order; through the Messenger, every device gets every
// message of its conversations exactly once, in each sender's send order, and every history holds
// each message once.
//
// On memory, every backend call waits for fast-check's scheduler, which picks the order in which
// the pending calls run (and shrinks a failing interleaving). On TableStore (the emulator over
// HTTP) the interleaving is real concurrency, varied by seeded random pauses.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryBackend,
  SyncTimeline,
  TimelineStore,
  fanOut,
  type AppendRow,
  type AppendRowResult,
  type BackendAppendOptions,
  type EnsureTableOptions,
  type ScanPage,
  type ScanPageRequest,
  type StoredRow,
  type TableDescription,
  type TableSpec,
  type TimelineBackend,
  type TimelineEntry,
} from '../../src/index.js';
import { buildMessenger, CURSOR_SECRET, pick, prng, processRig, tickingClock, uniqueTable, type ProcessRig } from './harness.js';
import { drainAll, newSendStats, planFrom, sendUntilDelivered, TrackingDevice, verify } from './scenario.js';

/** Every call of the inner backend first waits for the scheduler to let it run. */
class ScheduledBackend implements TimelineBackend {
  readonly #inner: TimelineBackend;
  readonly #s: fc.Scheduler;

  constructor(inner: TimelineBackend, s: fc.Scheduler) {
    this.#inner = inner;
    this.#s = s;
  }

  get capabilities(): TimelineBackend['capabilities'] {
    return this.#inner.capabilities;
  }

  // The send journal's record calls take part in the interleavings too.
  get records(): TimelineBackend['records'] {
    const inner = this.#inner.records;
    if (inner === undefined) return undefined;
    const s = this.#s;
    return {
      recordLimits: inner.recordLimits,
      ensureRecordTable: (spec, options) => inner.ensureRecordTable(spec, options),
      writeRecords: async (table, writes, options) => {
        await s.schedule(Promise.resolve(), `writeRecords ${writes.map((w) => w.key).join(',')}`);
        return inner.writeRecords(table, writes, options);
      },
      getRecord: async (table, partition, key, options) => {
        await s.schedule(Promise.resolve(), `getRecord ${key}`);
        return inner.getRecord(table, partition, key, options);
      },
      scanRecords: async (table, request) => {
        await s.schedule(Promise.resolve(), `scanRecords ${request.partition}`);
        return inner.scanRecords(table, request);
      },
    };
  }

  async ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    return this.#inner.ensureTable(spec, options);
  }

  async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    await this.#s.schedule(Promise.resolve(), `append ${rows.map((r) => r.timelineId).join(',')}`);
    return this.#inner.append(table, rows, options);
  }

  async get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    await this.#s.schedule(Promise.resolve(), `get ${timelineId}`);
    return this.#inner.get(table, timelineId, seq, options);
  }

  async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    await this.#s.schedule(Promise.resolve(), `scan ${request.timelineId}`);
    return this.#inner.scan(table, request);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * A broken backend for the test of the tests: an appended row gets its seq at once but becomes
 * visible to scans only at a later scheduler step, so a row can appear after one with a higher seq
 * (what TableStore's per-partition auto-increment rules out). Devices must then miss entries.
 */
class LateVisibilityBackend extends ScheduledBackend {
  readonly #hidden = new Set<string>();
  readonly #s: fc.Scheduler;

  constructor(inner: TimelineBackend, s: fc.Scheduler) {
    super(inner, s);
    this.#s = s;
  }

  override async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    const results = await super.append(table, rows, options);
    const keys = results.flatMap((r, i) => (r.ok ? [`${rows[i]!.timelineId}:${r.seq}`] : []));
    for (const k of keys) this.#hidden.add(k);
    void this.#s.schedule(Promise.resolve(), 'reveal').then(() => {
      for (const k of keys) this.#hidden.delete(k);
    });
    return results;
  }

  override async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    const page = await super.scan(table, request);
    return { ...page, rows: page.rows.filter((r) => !this.#hidden.has(`${r.timelineId}:${r.seq}`)) };
  }
}

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];

const deviceArb = fc.record({
  user: fc.constantFrom(...USERS),
  limit: fc.integer({ min: 1, max: 4 }),
  /** Sync calls made while the writers write. */
  syncs: fc.integer({ min: 0, max: 5 }),
});

// SyncTimeline: writers each append a sequence of messages, each to one inbox (push) or several
// (fanOut); devices sync meanwhile.
const inboxPlanArb = fc.record({
  writers: fc.array(fc.array(fc.subarray(USERS, { minLength: 1 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }),
  devices: fc.array(deviceArb, { minLength: 1, maxLength: 8 }),
  delaySeed: fc.integer(),
});
type InboxPlan = typeof inboxPlanArb extends fc.Arbitrary<infer P> ? P : never;

interface Note {
  readonly w: number;
  readonly k: number;
}

async function runInboxPlan(backend: TimelineBackend, plan: InboxPlan, pause: () => Promise<void>): Promise<void> {
  const store = new TimelineStore<Note>({ backend, table: uniqueTable('pc_sync'), ttlSeconds: 7 * 86_400 });
  const sync = new SyncTimeline(store, { cursorSecret: CURSOR_SECRET, now: tickingClock() });
  const devices = plan.devices.map((d) => ({ ...d, cursor: undefined as string | undefined, got: [] as TimelineEntry<Note>[] }));
  const syncOnce = async (d: (typeof devices)[number]): Promise<boolean> => {
    const result = await sync.sync(d.user, { cursor: d.cursor, limit: d.limit });
    d.got.push(...result.entries);
    d.cursor = result.cursor;
    return result.hasMore;
  };
  const writers = plan.writers.map(async (ops, w) => {
    for (const [k, receivers] of ops.entries()) {
      await pause();
      const messageId = `w${w}-${k}`;
      if (receivers.length === 1) await sync.push(receivers[0]!, { w, k }, { messageId });
      else expect((await fanOut(sync, receivers, { w, k }, { messageId })).failed).toEqual([]);
    }
  });
  const syncing = devices.map(async (d) => {
    for (let i = 0; i < d.syncs; i++) {
      await pause();
      await syncOnce(d);
    }
  });
  await Promise.all([...writers, ...syncing]);
  for (const d of devices) while (await syncOnce(d));
  for (const d of devices) {
    const inbox: TimelineEntry<Note>[] = [];
    for await (const e of store.timeline(d.user).scan()) inbox.push(e);
    // Read order = seq order, nothing repeated, nothing missed: exactly the inbox, in order.
    for (let i = 1; i < d.got.length; i++) expect(d.got[i]!.seq > d.got[i - 1]!.seq).toBe(true);
    expect(d.got.map((e) => `${e.seq}:${e.messageId}`)).toEqual(inbox.map((e) => `${e.seq}:${e.messageId}`));
    // The inbox holds each message meant for the user once, and each writer's in its write order.
    const expected = plan.writers.flatMap((ops, w) => ops.flatMap((receivers, k) => (receivers.includes(d.user) ? [`w${w}-${k}`] : [])));
    expect(inbox.map((e) => e.messageId).sort()).toEqual([...expected].sort());
    plan.writers.forEach((_, w) => {
      const ks = inbox.filter((e) => e.message.w === w).map((e) => e.message.k);
      expect(ks).toEqual([...ks].sort((a, b) => a - b));
    });
  }
}

// Messenger: conversations among the users, sends in a random order (each sender's own sends are
// sequential), optionally read diffusion for groups over 3 members; devices sync meanwhile.
const messengerPlanArb = fc.record({
  groups: fc.array(fc.subarray(USERS, { minLength: 2 }), { minLength: 1, maxLength: 3 }),
  sends: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 20 }),
  devices: fc.array(deviceArb, { minLength: 1, maxLength: 8 }),
  threshold: fc.constantFrom(Number.POSITIVE_INFINITY, 3),
  delaySeed: fc.integer(),
});
type MessengerPlan = typeof messengerPlanArb extends fc.Arbitrary<infer P> ? P : never;

async function runMessengerPlan(backend: TimelineBackend, input: MessengerPlan, pause: () => Promise<void>): Promise<void> {
  const conversations = input.groups.map((members, i) => ({ id: `g${i}`, members }));
  const plan = planFrom({
    conversations,
    sends: input.sends.map(([g, s]) => {
      const c = conversations[g % conversations.length]!;
      return { conversationId: c.id, senderId: c.members[s % c.members.length]! };
    }),
    devices: input.devices.map((d) => ({ userId: d.user, limit: d.limit })),
    largeGroupThreshold: input.threshold,
  });
  const { messenger } = buildMessenger(backend, { largeGroupThreshold: input.threshold, largeGroupsOf: plan.largeGroupsOf });
  const devices = input.devices.map((d) => new TrackingDevice(d.user, d.limit, true));
  const stats = newSendStats();
  const senders = [...plan.bySender.values()].map(async (messages) => {
    for (const m of messages) {
      await pause();
      await sendUntilDelivered(messenger, plan, m, stats, { keepSeqs: true, maxAttempts: 1 });
    }
  });
  const syncing = devices.map(async (d, i) => {
    for (let n = 0; n < input.devices[i]!.syncs; n++) {
      await pause();
      await d.syncOnce(messenger);
    }
  });
  await Promise.all([...senders, ...syncing]);
  expect(stats.fatal).toEqual([]);
  await drainAll(messenger, devices, 4);
  const verdict = await verify(plan, devices, messenger, { seqs: stats.seqs, pageLimit: 3 });
  expect(verdict.problems).toEqual([]);
  expect(verdict).toMatchObject({ duplicates: 0, lost: 0, outOfOrder: 0, seqMismatches: 0, historyDuplicates: 0 });
}

/** Seeded random pauses of 0-2 ms between steps: real interleavings over HTTP. */
function pauses(seed: number): () => Promise<void> {
  const random = prng(seed);
  return () => new Promise((resolve) => setTimeout(resolve, pick(random, 3)));
}

describe('concurrency on memory (interleavings chosen by fast-check)', () => {
  // TableStore-like batches and tiny pages, so that a fan-out is several requests and a sync
  // several reads: more points where other calls can cut in.
  const memory = (): MemoryBackend => new MemoryBackend({ maxBatchRows: 2, maxScanPageRows: 2 });

  it('SyncTimeline: no device misses or repeats an entry; read order = seq order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), inboxPlanArb, async (s, plan) => {
        await s.waitFor(runInboxPlan(new ScheduledBackend(memory(), s), plan, async () => undefined));
      }),
      { seed: 20_260_101, numRuns: 150 },
    );
  });

  it('the property has teeth: it finds the miss when a backend shows a row after one with a higher seq', async () => {
    await expect(
      fc.assert(
        fc.asyncProperty(fc.scheduler(), inboxPlanArb, async (s, plan) => {
          await s.waitFor(runInboxPlan(new LateVisibilityBackend(memory(), s), plan, async () => undefined));
        }),
        { seed: 20_260_101, numRuns: 150 },
      ),
    ).rejects.toThrow(/Counterexample/);
  });

  it('Messenger: every device gets every message exactly once, in each sender order; histories hold each once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), messengerPlanArb, async (s, plan) => {
        await s.waitFor(runMessengerPlan(new ScheduledBackend(memory(), s), plan, async () => undefined));
      }),
      { seed: 20_260_102, numRuns: 100 },
    );
  });
});

// The emulator in its own process: real concurrency between client and service. The timeout is a
// hang bound, not a speed test (the suite takes about 25 s, longer on a loaded machine).
//
// Both transports: every case on the wire path (the default); on the SDK's client the same cases
// with a seeded subset of the properties' runs (other seeds, a third of the runs) and the
// many-senders case in full, which is where a connection pool meets the most concurrency. The two properties' interleavings come from pauses, not from the transport: a third
// of the runs keeps the file's added time to about 10 s.
const TRANSPORT_RUNS = [
  { transport: 'wire', seed: 5001, inboxRuns: { seed: 20_260_103, numRuns: 15 }, messengerRuns: { seed: 20_260_104, numRuns: 12 } },
  { transport: 'sdk', seed: 5002, inboxRuns: { seed: 20_260_113, numRuns: 5 }, messengerRuns: { seed: 20_260_114, numRuns: 4 } },
] as const;

describe.each(TRANSPORT_RUNS)('concurrency on TableStore (emulator, real concurrency, $transport transport)', { timeout: 180_000 }, ({ transport, seed, inboxRuns, messengerRuns }) => {
  let rig: ProcessRig;
  beforeAll(async () => {
    rig = await processRig(seed, {}, {}, { transport });
  });
  afterAll(async () => {
    await rig.close();
  });

  it('SyncTimeline: no device misses or repeats an entry; read order = seq order', async () => {
    await fc.assert(
      fc.asyncProperty(inboxPlanArb, async (plan) => runInboxPlan(rig.backend, plan, pauses(plan.delaySeed))),
      inboxRuns,
    );
  });

  it('Messenger: every device gets every message exactly once, in each sender order; histories hold each once', async () => {
    await fc.assert(
      fc.asyncProperty(messengerPlanArb, async (plan) => runMessengerPlan(rig.backend, plan, pauses(plan.delaySeed))),
      messengerRuns,
    );
  });

  it('many senders and devices at once: 24 senders, 48 devices, 300 messages', async () => {
    const users = Array.from({ length: 24 }, (_, i) => `m${i}`);
    const random = prng(77);
    const conversations = Array.from({ length: 8 }, (_, i) => ({ id: `big${i}`, members: users.filter(() => random() < 0.4).concat(users[i]!) }));
    const sends = Array.from({ length: 300 }, () => {
      const c = conversations[pick(random, conversations.length)]!;
      return { conversationId: c.id, senderId: c.members[pick(random, c.members.length)]! };
    });
    const plan = planFrom({
      conversations,
      sends,
      devices: users.flatMap((u) => [
        { userId: u, limit: 1 + pick(random, 5) },
        { userId: u, limit: 1 + pick(random, 50) },
      ]),
      largeGroupThreshold: 10,
    });
    const { messenger } = buildMessenger(rig.backend, { largeGroupThreshold: 10, largeGroupsOf: plan.largeGroupsOf });
    const devices = plan.devices.map((d) => new TrackingDevice(d.userId, d.limit, true));
    const stats = newSendStats();
    let sending = true;
    const senders = Promise.all(
      [...plan.bySender.values()].map(async (messages) => {
        for (const m of messages) await sendUntilDelivered(messenger, plan, m, stats, { keepSeqs: true, maxAttempts: 1 });
      }),
    ).finally(() => {
      sending = false;
    });
    // Every device syncs continuously while the senders send.
    const syncing = Promise.all(
      devices.map(async (d) => {
        while (sending) {
          await d.syncOnce(messenger);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }),
    );
    await Promise.all([senders, syncing]);
    expect(stats.fatal).toEqual([]);
    await drainAll(messenger, devices, 8);
    const verdict = await verify(plan, devices, messenger, { seqs: stats.seqs });
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({ duplicates: 0, lost: 0, outOfOrder: 0, seqMismatches: 0, historyDuplicates: 0 });
    expect(devices.reduce((n, d) => n + d.syncCalls, 0)).toBeGreaterThan(200);
  });
});
