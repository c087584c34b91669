import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TimelineBackend } from '../core/backend.js';
import { resolveCapabilities } from '../core/capabilities.js';
import { GuardedBackend } from '../core/guarded-backend.js';
import { describeMutations } from './mutations-contract.js';
import { describeRawInterface } from './raw-contract.js';
import { ClosedError, TimelineError } from '../core/errors.js';
import { TimelineStore } from '../core/timeline-store.js';
import { createSuiteClock } from './suite-clock.js';
import type { TimelineEntry } from '../core/types.js';

/**
 * The parts of a test framework the contract suite needs. Vitest, Jest, Mocha (BDD) and
 * `node:test` all fit: pass their functions in. The suite asserts with `node:assert`, so it never
 * imports a test framework at runtime.
 */
export interface ContractFramework {
  /** Registers a group of tests (vitest/jest/mocha `describe`). */
  describe(name: string, fn: () => void): void;
  /** Registers one test with an optional timeout in milliseconds (`it`/`test`). */
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  /** Registers a hook run after the group (`afterAll`/`after`); used to close the backend. */
  afterAll?(fn: () => Promise<void>): void;
}

/** What the suite gives a backend factory. */
export interface ContractContext {
  /**
   * The suite's clock in milliseconds. Backends that can take a clock should use it for TTL; the
   * suite advances it instead of sleeping.
   */
  readonly now: () => number;
  /**
   * Registers `listener`, which the suite calls with the step in milliseconds each time it moves
   * its clock forward, and waits for before it goes on. For a backend whose clock cannot read
   * {@link ContractContext.now}, e.g. a service emulator in another process (run apart so that the
   * client's work never delays the service's answers): move that clock by the same step, so that
   * the TTL tests see one time on both sides. Backends that read `now` need not register anything.
   *
   * @returns A function that removes the listener: call it when the backend is destroyed.
   *
   * @example
   * ```ts
   * createBackend: async ({ now, onClockAdvance }) => {
   *   const service = await startServiceProcess({ clockStartMs: now() });
   *   const stop = onClockAdvance((ms) => service.advanceClock(ms));
   *   return new MyBackend({ endpoint: service.endpoint, onClose: stop });
   * },
   * ```
   */
  readonly onClockAdvance: (listener: (ms: number) => void | Promise<void>) => () => void;
  /**
   * The seq the suite would like the first entry of each timeline to get (above 2^53, to prove
   * seqs stay exact). Backends that cannot choose their seqs ignore it; see
   * {@link BackendContractOptions.honoursFirstSeq}.
   */
  readonly firstSeq: bigint;
}

/** Options of {@link describeBackendContract}. */
export interface BackendContractOptions {
  /** Name shown in the test report. */
  name: string;
  /**
   * Creates a fresh backend. Called once per test group; each test uses random table and timeline
   * names, so backends may be shared and no cleanup is needed.
   */
  createBackend(context: ContractContext): TimelineBackend | Promise<TimelineBackend>;
  /** Called after each backend's tests, e.g. to stop an emulator. The suite itself closes the backend. */
  destroyBackend?(backend: TimelineBackend): void | Promise<void>;
  /**
   * Whether the backend uses {@link ContractContext.now} for TTL. When false, the TTL tests are
   * skipped (e.g. a real cloud instance, where a day cannot be waited for).
   * @default true
   */
  honoursClock?: boolean;
  /**
   * Whether the backend starts timelines at {@link ContractContext.firstSeq}. When false, the
   * suite only checks that whatever seqs it gets round-trip exactly.
   * @default true
   */
  honoursFirstSeq?: boolean;
  /**
   * Per-test timeout in milliseconds.
   * @default 30000
   */
  timeout?: number;
}

interface Message {
  n: number;
  writer?: number;
  big?: bigint;
}

const DAY_MS = 86_400_000;
const TWO_POW_53 = 2n ** 53n;

/**
 * Registers the shared backend contract suite: the behaviour every `TimelineBackend` must have for
 * the timelines, IM helpers and guarantees of this library to hold. Every backend of this package
 * runs it, and third-party backends can too.
 *
 * @example
 * ```ts
 * import { describe, it, afterAll } from 'vitest';
 * import { describeBackendContract } from 'tablestore-timeline/testing';
 * import { MyBackend } from '../src/my-backend.js';
 *
 * describeBackendContract({ describe, it, afterAll }, {
 *   name: 'MyBackend',
 *   createBackend: ({ now }) => new MyBackend({ now }),
 * });
 * ```
 */
export function describeBackendContract(framework: ContractFramework, options: BackendContractOptions): void {
  const { describe, it } = framework;
  const timeout = options.timeout ?? 30_000;
  const honoursClock = options.honoursClock ?? true;
  const honoursFirstSeq = options.honoursFirstSeq ?? true;
  // Far above 2^53, far below 2^63: leaves room for any gaps a backend leaves between seqs.
  const firstSeq = 2n ** 60n + 7n;
  const clock = createSuiteClock(Date.UTC(2030, 0, 1));
  const context: ContractContext = { now: clock.now, onClockAdvance: clock.onClockAdvance, firstSeq };
  let backendPromise: Promise<{ raw: TimelineBackend; guarded: GuardedBackend }> | undefined;
  // The suite uses backends the way TimelineStore does: through the core's GuardedBackend, which
  // does the closed and abort checks. The raw interface is tested on its own (raw-contract.ts).
  const created = (): Promise<{ raw: TimelineBackend; guarded: GuardedBackend }> =>
    (backendPromise ??= Promise.resolve(options.createBackend(context)).then((raw) => ({ raw, guarded: GuardedBackend.wrap(raw) })));
  const backend = async (): Promise<TimelineBackend> => (await created()).guarded;
  const table = (): string => `contract_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const id = (prefix = 'tl'): string => `${prefix}:${randomUUID()}`;
  const store = async (ttlSeconds = -1): Promise<TimelineStore<Message>> => {
    const s = new TimelineStore<Message>({ backend: await backend(), table: table(), ttlSeconds });
    await s.init();
    return s;
  };
  const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
    const out: T[] = [];
    for await (const item of iterable) out.push(item);
    return out;
  };
  const test = (name: string, fn: () => Promise<void>): void => it(name, fn, timeout);

  describe(`TimelineBackend contract: ${options.name}`, () => {
    framework.afterAll?.(async () => {
      if (backendPromise === undefined) return;
      const { raw, guarded } = await backendPromise;
      await guarded.close();
      await options.destroyBackend?.(raw);
    });

    describeRawInterface({ backend: async () => (await created()).raw, table, id, test });
    describeMutations({ backend, store: async () => (await store()) as unknown as TimelineStore<{ n: number; text?: string; big?: bigint }>, id: () => id(), test });

    test('declares usable capabilities', async () => {
      const c = resolveCapabilities(await backend());
      assert.equal(typeof c.name, 'string');
      for (const key of ['maxBatchRows', 'maxBatchBytes', 'maxMessageBytes', 'maxScanPageRows'] as const) {
        assert.ok(Number.isSafeInteger(c[key]) && c[key] > 0, `capabilities.${key} must be a positive integer`);
      }
      assert.ok(c.ttlGranularitySeconds >= 0);
      assert.equal(typeof c.orderedBatches, 'boolean');
    });

    test('append assigns increasing seqs and get reads the entry back', async () => {
      const tl = (await store()).timeline(id());
      const a = await tl.append({ n: 1 }, { messageId: 'm-1' });
      const b = await tl.append({ n: 2 });
      assert.equal(typeof a.seq, 'bigint');
      assert.ok(b.seq > a.seq, `second seq ${b.seq} must exceed first ${a.seq}`);
      assert.deepEqual(await tl.get(a.seq), { timelineId: tl.id, seq: a.seq, message: { n: 1 }, messageId: 'm-1' });
      assert.deepEqual(await tl.get(b.seq), { timelineId: tl.id, seq: b.seq, message: { n: 2 } });
      assert.deepEqual((await tl.latest())?.seq, b.seq);
    });

    test('seqs strictly increase under 50 concurrent writers (1,000 appends): none lost, none duplicated', async () => {
      const tl = (await store()).timeline(id());
      const writers = 50;
      const perWriter = 20;
      const returned: bigint[] = [];
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          let last = -1n;
          for (let n = 0; n < perWriter; n++) {
            const entry = await tl.append({ n, writer });
            // One writer's appends are sequential, so its own seqs must increase too.
            assert.ok(entry.seq > last, `writer ${writer}: seq ${entry.seq} after ${last}`);
            last = entry.seq;
            returned.push(entry.seq);
          }
        }),
      );
      const scanned = await collect(tl.scan());
      assert.equal(scanned.length, writers * perWriter);
      for (let i = 1; i < scanned.length; i++) assert.ok(scanned[i]!.seq > scanned[i - 1]!.seq, 'scan order must be seq order');
      assert.equal(new Set(returned).size, returned.length, 'seqs must be unique');
      assert.deepEqual(
        scanned.map((e) => e.seq),
        [...returned].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      );
      const seen = new Set(scanned.map((e) => `${e.message.writer}/${e.message.n}`));
      assert.equal(seen.size, writers * perWriter, 'every message exactly once');
      // Each writer's messages appear in its own send order.
      for (let writer = 0; writer < writers; writer++) {
        const mine = scanned.filter((e) => e.message.writer === writer).map((e) => e.message.n);
        assert.deepEqual(mine, Array.from({ length: perWriter }, (_, n) => n));
      }
    });

    test('timelines are isolated from each other and across tables', async () => {
      const s1 = await store();
      const s2 = await store();
      const shared = id('shared');
      const a = s1.timeline(shared);
      const b = s1.timeline(id());
      const c = s2.timeline(shared);
      await a.appendMany([{ n: 1 }, { n: 2 }]);
      await b.append({ n: 10 });
      await c.append({ n: 100 });
      assert.deepEqual((await collect(a.scan())).map((e) => e.message.n), [1, 2]);
      assert.deepEqual((await collect(b.scan())).map((e) => e.message.n), [10]);
      assert.deepEqual((await collect(c.scan())).map((e) => e.message.n), [100]);
      assert.ok((await collect(a.scan())).every((e) => e.timelineId === shared));
    });

    test('appendMany keeps input order, across the backend batch limit', async () => {
      const s = await store();
      const tl = s.timeline(id());
      const count = Math.min(s.capabilities.maxBatchRows, 1000) + 7;
      const entries = await tl.appendMany(
        Array.from({ length: count }, (_, n) => ({ n })),
        { messageIds: Array.from({ length: count }, (_, n) => `id-${n}`) },
      );
      assert.equal(entries.length, count);
      entries.forEach((e, n) => {
        assert.equal(e.message.n, n);
        assert.equal(e.messageId, `id-${n}`);
        if (n > 0) assert.ok(e.seq > entries[n - 1]!.seq, `entry ${n} out of order`);
      });
      const scanned = await collect(tl.scan());
      assert.deepEqual(scanned.map((e) => e.message.n), entries.map((e) => e.message.n));
      assert.deepEqual(scanned.map((e) => e.seq), entries.map((e) => e.seq));
      assert.deepEqual(await tl.appendMany([]), []);
    });

    test('appendBatch writes many timelines in one call, one outcome per item in order', async () => {
      const s = await store();
      const ids = Array.from({ length: 25 }, () => id('r'));
      const outcomes = await s.appendBatch(ids.map((timelineId, n) => ({ timelineId, message: { n }, messageId: 'batch-1' })));
      assert.equal(outcomes.length, ids.length);
      for (const [n, outcome] of outcomes.entries()) {
        assert.ok(outcome.ok, `item ${n} failed`);
        assert.equal(outcome.entry.timelineId, ids[n]);
        const read = await s.timeline(ids[n]!).get(outcome.entry.seq);
        assert.deepEqual(read, { timelineId: ids[n], seq: outcome.entry.seq, message: { n }, messageId: 'batch-1' });
      }
    });

    test('get of a missing seq, and of an empty timeline, is undefined', async () => {
      const tl = (await store()).timeline(id());
      assert.equal(await tl.get(1n), undefined);
      const e = await tl.append({ n: 1 });
      assert.equal(await tl.get(e.seq + 1n), undefined);
      assert.equal(e.seq > 0n ? await tl.get(e.seq - 1n) : undefined, undefined);
    });

    test('scan of an empty timeline yields nothing in both directions', async () => {
      const tl = (await store()).timeline(id());
      assert.deepEqual(await collect(tl.scan()), []);
      assert.deepEqual(await collect(tl.scan({ direction: 'backward' })), []);
      assert.equal(await tl.latest(), undefined);
    });

    test('scan bounds: from inclusive, to exclusive, both directions, limit', async () => {
      const tl = (await store()).timeline(id());
      const e = await tl.appendMany(Array.from({ length: 10 }, (_, n) => ({ n })));
      const seqs = e.map((x) => x.seq);
      const ns = async (opts: Parameters<typeof tl.scan>[0]): Promise<number[]> => (await collect(tl.scan(opts))).map((x) => x.message.n);
      assert.deepEqual(await ns({}), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(await ns({ from: seqs[3] }), [3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(await ns({ from: seqs[3], to: seqs[6] }), [3, 4, 5]);
      assert.deepEqual(await ns({ to: seqs[2] }), [0, 1]);
      assert.deepEqual(await ns({ from: seqs[3]! + 1n }), [4, 5, 6, 7, 8, 9], 'a from between seqs starts at the next entry');
      assert.deepEqual(await ns({ direction: 'backward' }), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(await ns({ direction: 'backward', from: seqs[6] }), [6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(await ns({ direction: 'backward', from: seqs[6], to: seqs[3] }), [6, 5, 4]);
      assert.deepEqual(await ns({ direction: 'backward', to: seqs[7] }), [9, 8]);
      assert.deepEqual(await ns({ limit: 3 }), [0, 1, 2]);
      assert.deepEqual(await ns({ direction: 'backward', limit: 2 }), [9, 8]);
      assert.deepEqual(await ns({ from: seqs[5], to: seqs[5] }), [], 'empty range');
      assert.deepEqual(await ns({ from: seqs[6], to: seqs[2] }), [], 'inverted forward range is empty');
      assert.deepEqual(await ns({ from: seqs[9]! + 1n }), [], 'past the tail');
    });

    test('scan pages lazily across at least 3 pages in both directions', async () => {
      const tl = (await store()).timeline(id());
      await tl.appendMany(Array.from({ length: 23 }, (_, n) => ({ n })));
      const forward = await collect(tl.scan({ pageSize: 5 }));
      assert.deepEqual(forward.map((x) => x.message.n), Array.from({ length: 23 }, (_, n) => n));
      const backward = await collect(tl.scan({ pageSize: 4, direction: 'backward' }));
      assert.deepEqual(backward.map((x) => x.message.n), Array.from({ length: 23 }, (_, n) => 22 - n));
      const limited = await collect(tl.scan({ pageSize: 3, limit: 10 }));
      assert.deepEqual(limited.map((x) => x.message.n), Array.from({ length: 10 }, (_, n) => n));
    });

    test('scan stops when its AbortSignal fires', async () => {
      const tl = (await store()).timeline(id());
      await tl.appendMany(Array.from({ length: 9 }, (_, n) => ({ n })));
      const controller = new AbortController();
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const e of tl.scan({ pageSize: 3, signal: controller.signal })) {
            seen.push(e.message.n);
            if (seen.length === 4) controller.abort();
          }
        })(),
        (error: unknown) => error instanceof TimelineError && error.code === 'ABORTED',
      );
      assert.ok(seen.length >= 4 && seen.length <= 6, `read ${seen.length} entries after abort`);
    });

    test('bigint values and seqs round-trip exactly above 2^53', async () => {
      const tl = (await store()).timeline(id());
      const big = 2n ** 63n - 1n;
      const a = await tl.append({ n: 1, big });
      const b = await tl.append({ n: 2, big: -(2n ** 62n) - 3n });
      if (honoursFirstSeq) {
        assert.ok(a.seq >= firstSeq, `first seq ${a.seq} should be at least the requested ${firstSeq}`);
        assert.ok(a.seq > TWO_POW_53);
      }
      const read = await tl.get(a.seq);
      assert.equal(read?.seq, a.seq);
      assert.equal(read?.message.big, big);
      assert.equal((await tl.get(b.seq))?.message.big, -(2n ** 62n) - 3n);
      const scanned = await collect(tl.scan({ from: a.seq }));
      assert.deepEqual(scanned.map((e) => e.seq), [a.seq, b.seq]);
      // A bound one past a large seq must not be rounded onto it (it would be, through a double).
      assert.deepEqual((await collect(tl.scan({ from: a.seq + 1n }))).map((e) => e.seq), [b.seq]);
    });

    if (honoursClock) {
      test('entries expire after the table TTL and stay visible before it', async () => {
        const s = await store(86_400);
        const forever = await store(-1);
        const tl = s.timeline(id());
        const keep = forever.timeline(id());
        const old = await tl.append({ n: 1 });
        await keep.append({ n: 1 });
        await clock.advance(DAY_MS / 2);
        const young = await tl.append({ n: 2 });
        assert.equal((await tl.get(old.seq))?.message.n, 1, 'visible before the TTL');
        const granularity = resolveCapabilities(await backend()).ttlGranularitySeconds * 1000;
        await clock.advance(DAY_MS / 2 + 1000 + granularity);
        assert.equal(await tl.get(old.seq), undefined, 'expired entry is invisible to get');
        assert.deepEqual((await collect(tl.scan())).map((e) => e.message.n), [2], 'expired entry is invisible to scan');
        assert.equal((await tl.get(young.seq))?.message.n, 2);
        const newer = await tl.append({ n: 3 });
        assert.ok(newer.seq > young.seq, 'seqs never go back after expiry');
        assert.equal((await collect(keep.scan())).length, 1, 'a table without TTL keeps its entries');
        await clock.advance(DAY_MS / 2 + granularity);
        assert.deepEqual((await collect(tl.scan())).map((e) => e.message.n), [3], 'the middle entry expired in turn');
        await clock.advance(DAY_MS);
        const last = await tl.append({ n: 4 });
        assert.ok(last.seq > newer.seq, 'seqs never go back even when every entry expired');
      });
    }

    test('init verifies an existing table: a TTL mismatch is reported by default, changed only when asked', async () => {
      const b = await backend();
      const name = table();
      const isIncompatible = (error: unknown): boolean => error instanceof TimelineError && error.code === 'TABLE_INCOMPATIBLE';
      const original = new TimelineStore<Message>({ backend: b, table: name, ttlSeconds: 86_400 });
      await original.init();
      await assert.rejects(new TimelineStore({ backend: b, table: name, ttlSeconds: 2 * 86_400 }).init(), isIncompatible);
      await assert.rejects(new TimelineStore({ backend: b, table: name, ttlSeconds: 2 * 86_400, onTtlMismatch: 'error' }).init(), isIncompatible);
      // Lazy init of a store without a TTL must not make the table keep entries forever.
      await assert.rejects(new TimelineStore<Message>({ backend: b, table: name }).timeline(id()).append({ n: 1 }), isIncompatible);
      const same = await new TimelineStore({ backend: b, table: name, ttlSeconds: 86_400 }).init();
      assert.equal(same.created, false);
      assert.equal(same.ttlSeconds, 86_400, 'the rejected stores left the TTL alone');
      const updated = await new TimelineStore({ backend: b, table: name, ttlSeconds: 2 * 86_400, onTtlMismatch: 'update' }).init();
      assert.equal(updated.ttlUpdated, true);
      assert.equal(updated.ttlSeconds, 2 * 86_400);
    });

    test('close() twice is safe and use after close rejects with CLOSED', async () => {
      const raw = await options.createBackend(context);
      const b = GuardedBackend.wrap(raw);
      const s = new TimelineStore<Message>({ backend: b, table: table() });
      const tl = s.timeline(id());
      const entry: TimelineEntry<Message> = await tl.append({ n: 1 });
      await b.close();
      await b.close();
      const isClosed = (error: unknown): boolean => error instanceof TimelineError && error.code === 'CLOSED';
      await assert.rejects(tl.append({ n: 2 }), isClosed);
      await assert.rejects(tl.get(entry.seq), isClosed);
      await assert.rejects(collect(tl.scan()), isClosed);
      await assert.rejects(b.ensureTable({ table: table(), ttlSeconds: -1 }), isClosed);
      await s.close();
      await s.close();
      await assert.rejects(tl.append({ n: 3 }), (error: unknown) => error instanceof ClosedError);
      await options.destroyBackend?.(raw);
    });
  });
}
