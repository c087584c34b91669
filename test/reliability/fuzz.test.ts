// Fuzzing every public method (the Messenger's are added by its own entries): random types, huge
// and odd strings, odd objects, out-of-range numbers and bigints, mixed with valid values so that
// calls get past the first check. Every rejection must be a TimelineError with a stable code, a
// rejected call must write nothing, and no call may hang. Table-driven: a method is one entry of
// FUZZ_METHODS. Reproducible: fast-check runs from a fixed seed. TableStore is fuzzed on both
// transports (the wire path, the default, and the SDK's client), each from its own seed: under a
// second each.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BoundedMap,
  MemoryBackend,
  Messenger,
  StoreTimeline,
  SyncTimeline,
  TimelineError,
  TimelineStore,
  checkSeq,
  fanOut,
  parseSeq,
  retryFanOut,
  type AppendRow,
  type AppendRowResult,
  type BackendAppendOptions,
  type Timeline,
  type TimelineBackend,
  type TimelineErrorCode,
} from '../../src/index.js';
import { PassThroughBackend } from '../../src/testing/index.js';
import { CURSOR_SECRET, tableStoreRig, tickingClock, uniqueTable, type TableStoreRig } from './harness.js';

/** Every code a rejection may carry (docs of TimelineErrorCode). */
const STABLE_CODES: readonly TimelineErrorCode[] = [
  'INVALID_ARGUMENT',
  'MESSAGE_TOO_LARGE',
  'CODEC',
  'CLOSED',
  'ABORTED',
  'TABLE_INCOMPATIBLE',
  'BACKEND',
  'WRITE_UNCERTAIN',
  'PARTIAL_WRITE',
  'INVALID_CURSOR',
  'NOT_SUPPORTED',
  'MISSING_DEPENDENCY',
  'SEND_IN_PROGRESS',
];

/** Counts the rows the library sends to the backend. */
class CountingBackend extends PassThroughBackend {
  rows = 0;
  override append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    this.rows += rows.length;
    return super.append(table, rows, options);
  }
}

/** What a fuzzed call may use, on one backend. */
export interface FuzzContext {
  readonly backend: CountingBackend;
  readonly store: TimelineStore<unknown>;
  readonly timeline: Timeline<unknown>;
  readonly history: StoreTimeline<unknown>;
  readonly sync: SyncTimeline<unknown>;
  /** A valid cursor of receiver `bob`. */
  readonly cursor: string;
  readonly now: () => number;
  /** A Messenger over the store (history) and the sync store, with the journal. */
  readonly messenger: Messenger<unknown>;
  /** A valid Messenger cursor of user `bob`. */
  readonly messengerCursor: string;
}

/** One public method: how to draw its arguments and how to call it. */
export interface FuzzMethod {
  readonly name: string;
  readonly args: fc.Arbitrary<unknown[]>;
  call(context: FuzzContext, args: unknown[]): unknown;
}

// ------------------------------------------------------------------------------------------------
// Values

const aborted = new AbortController();
aborted.abort(new Error('aborted before the call'));
const HUGE = 'h'.repeat(1024 * 1024);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => `id${String.fromCharCode(code)}`);

/** Values that have broken this library's own checks before (messages built with String()). */
const nasty = fc.constantFrom<unknown>(
  Object.create(null),
  [Object.create(null)],
  Symbol('odd'),
  () => 1,
  aborted.signal,
  new Date(0),
  new Uint8Array(3),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -0,
  0.5,
  -1,
  2 ** 53 + 2,
  2 ** 31,
  -1n,
  2n ** 63n,
  2n ** 64n,
  -(2n ** 70n),
  '',
  ' ',
  '\u0000',
  '__proto__',
  'constructor',
  'x'.repeat(1025),
  'é'.repeat(600),
  HUGE,
);

/** Anything a caller might wrongly pass. */
const odd: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 2,
      maxKeys: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
    }),
  },
);

/** A valid value most of the time, an odd one otherwise. */
const maybe = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 2, arbitrary: valid }, { weight: 1, arbitrary: odd });

const id = maybe(fc.constantFrom('bob', 'alice', 'user:1', 'g👍'));
const seq = maybe(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.constantFrom(0n, 1n, 2n ** 63n - 1n)));
const count = maybe(fc.integer({ min: 1, max: 50 }));
const message = maybe(fc.jsonValue({ maxDepth: 2 }));
const signal = maybe(fc.constant(undefined));

/** An options argument: undefined, an odd value, or an object of some of the given keys. */
function options(keys: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const record = fc.record(Object.fromEntries(Object.entries(keys).map(([key, value]) => [key, maybe(value)])), { requiredKeys: [] });
  return fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: odd }, { weight: 3, arbitrary: record });
}

const list = <T>(item: fc.Arbitrary<T>): fc.Arbitrary<unknown> => maybe(fc.array(item, { maxLength: 6 }));
const args = (...items: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown[]> => fc.tuple(...items);

// ------------------------------------------------------------------------------------------------
// The methods

export const FUZZ_METHODS: FuzzMethod[] = [
  {
    name: 'new TimelineStore',
    args: args(
      maybe(
        fc.record(
          {
            table: maybe(fc.constantFrom('fuzz_a', 'fuzz_b')),
            ttlSeconds: maybe(fc.constantFrom(-1, 86_400, 604_800)),
            onTtlMismatch: maybe(fc.constantFrom('error', 'update')),
            writeConcurrency: count,
            codec: odd,
          },
          { requiredKeys: [] },
        ),
      ),
    ),
    call: (c, [opts]) => new TimelineStore(opts === null || typeof opts !== 'object' ? (opts as never) : ({ backend: c.backend, ...opts } as never)),
  },
  { name: 'new TimelineStore (odd backend)', args: args(odd), call: (_c, [backend]) => new TimelineStore({ backend: backend as never, table: 't' }) },
  { name: 'new MemoryBackend', args: args(options({ firstSeq: seq, now: odd, maxBatchRows: count, maxScanPageRows: count, maxMessageBytes: count })), call: (_c, [o]) => new MemoryBackend(o as never) },
  { name: 'TimelineStore.timeline', args: args(id), call: (c, [timelineId]) => c.store.timeline(timelineId as never) },
  {
    name: 'TimelineStore.appendBatch',
    args: args(list(maybe(fc.record({ timelineId: id, message, messageId: id }, { requiredKeys: ['timelineId'] }))), options({ concurrency: count, signal })),
    call: (c, [items, o]) => c.store.appendBatch(items as never, o as never),
  },
  { name: 'Timeline.append', args: args(message, options({ messageId: id, signal })), call: (c, [m, o]) => c.timeline.append(m, o as never) },
  {
    name: 'Timeline.appendMany',
    args: args(list(message), options({ messageIds: list(id), signal })),
    call: (c, [messages, o]) => c.timeline.appendMany(messages as never, o as never),
  },
  { name: 'Timeline.get', args: args(seq, options({ signal })), call: (c, [s, o]) => c.timeline.get(s as never, o as never) },
  {
    name: 'Timeline.scan',
    args: args(options({ from: seq, to: seq, direction: fc.constantFrom('forward', 'backward'), limit: count, pageSize: count, signal })),
    call: (c, [o]) => c.timeline.scan(o as never),
  },
  { name: 'Timeline.latest', args: args(options({ signal })), call: (c, [o]) => c.timeline.latest(o as never) },
  { name: 'new StoreTimeline', args: args(odd), call: (_c, [store]) => new StoreTimeline(store as never) },
  { name: 'StoreTimeline.append', args: args(id, message, options({ messageId: id, signal })), call: (c, [i, m, o]) => c.history.append(i as never, m, o as never) },
  { name: 'StoreTimeline.page', args: args(id, options({ before: seq, limit: count, signal })), call: (c, [i, o]) => c.history.page(i as never, o as never) },
  { name: 'StoreTimeline.since', args: args(id, options({ after: seq, limit: count, signal })), call: (c, [i, o]) => c.history.since(i as never, o as never) },
  { name: 'StoreTimeline.get', args: args(id, seq, options({ signal })), call: (c, [i, s, o]) => c.history.get(i as never, s as never, o as never) },
  { name: 'StoreTimeline.latest', args: args(id, options({ signal })), call: (c, [i, o]) => c.history.latest(i as never, o as never) },
  {
    name: 'new SyncTimeline',
    args: args(options({ cursorSecret: fc.constantFrom(CURSOR_SECRET, [CURSOR_SECRET]), now: fc.constant(() => 0) })),
    call: (c, [o]) => new SyncTimeline(c.sync.store, o as never),
  },
  { name: 'SyncTimeline.push', args: args(id, message, options({ messageId: id, signal })), call: (c, [i, m, o]) => c.sync.push(i as never, m, o as never) },
  {
    name: 'SyncTimeline.sync',
    args: args(id, options({ cursor: fc.oneof(fc.constant('VALID'), fc.base64String({ maxLength: 80 }).map((s) => s.replace(/=+$/, ''))), limit: count, signal })),
    call: (c, [i, o]) => {
      const opts = o !== null && typeof o === 'object' && (o as { cursor?: unknown }).cursor === 'VALID' ? { ...o, cursor: c.cursor } : o;
      return c.sync.sync(i as never, opts as never);
    },
  },
  {
    name: 'fanOut',
    args: args(list(id), message, options({ messageId: id, concurrency: count, signal, skipExisting: fc.boolean(), dedupeWindow: count })),
    call: (c, [receivers, m, o]) => fanOut(c.sync, receivers as never, m, o as never),
  },
  {
    name: 'retryFanOut',
    args: args(
      maybe(
        fc.record({
          messageId: id,
          delivered: list(maybe(fc.record({ receiverId: id, seq }))),
          failed: list(maybe(fc.record({ receiverId: id, error: fc.constant(new TimelineError('BACKEND', 'x', { retryable: true })) }))),
        }),
      ),
      message,
      options({ concurrency: count, signal, dedupeWindow: count }),
    ),
    call: (c, [previous, m, o]) => retryFanOut(c.sync, previous as never, m, o as never),
  },
  // The parameter name is the caller's own label for messages: a string by contract.
  { name: 'checkSeq', args: args(seq, fc.string({ maxLength: 8 })), call: (_c, [s, p]) => checkSeq(s, p as string) },
  { name: 'parseSeq', args: args(maybe(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String))), call: (_c, [s]) => parseSeq(s) },
  {
    name: 'new Messenger',
    args: args(
      options({
        largeGroupThreshold: fc.constantFrom(0, 5, 500, Number.POSITIVE_INFINITY),
        largeGroupsOf: fc.constant(() => []),
        onDelivered: fc.constant(() => undefined),
        now: fc.constant(() => 0),
        deliverToSender: fc.boolean(),
        dedupeWindow: count,
        checkBeforeSend: fc.boolean(),
        recentSends: count,
        concurrency: count,
        journal: fc.oneof(fc.constant(false), fc.record({ table: fc.constantFrom('fuzz_j', 'bad-name'), ttlSeconds: fc.constantFrom(-1, 86400, 5), leaseMs: count, claimWaitMs: count }, { requiredKeys: [] })),
        allowExpiringHistory: fc.boolean(),
        allowPermanentInboxes: fc.boolean(),
      }),
    ),
    call: (c, [o]) => {
      const opts = o !== null && typeof o === 'object' ? { store: c.history, sync: c.sync, ...o } : o;
      return new Messenger(opts as never);
    },
  },
  {
    name: 'Messenger.send',
    args: args(
      maybe(
        fc.record(
          { conversationId: id, senderId: id, recipients: list(id), message, messageId: id, signal },
          { requiredKeys: ['conversationId', 'senderId', 'recipients', 'message'] },
        ),
      ),
    ),
    call: (c, [input]) => c.messenger.send(input as never),
  },
  {
    name: 'Messenger.sync',
    args: args(id, options({ cursor: fc.oneof(fc.constant('VALID'), fc.base64String({ maxLength: 80 }).map((s) => s.replace(/=+$/, ''))), limit: count, signal })),
    call: (c, [i, o]) => {
      const opts = o !== null && typeof o === 'object' && (o as { cursor?: unknown }).cursor === 'VALID' ? { ...o, cursor: c.messengerCursor } : o;
      return c.messenger.sync(i as never, opts as never);
    },
  },
  { name: 'Messenger.history', args: args(id, options({ before: seq, limit: count, signal })), call: (c, [i, o]) => c.messenger.history(i as never, o as never) },
  { name: 'Messenger.recover', args: args(options({ signal })), call: (c, [o]) => c.messenger.recover(o as never) },
  { name: 'new BoundedMap', args: args(options({ maxSize: count })), call: (_c, [o]) => new BoundedMap(o as never) },
];

// ------------------------------------------------------------------------------------------------
// The property

// Bounds a call: a fuzzed call that neither resolves nor rejects fails the test instead of
// stalling the suite. Long enough for any real request to the local emulator.
const HANG_BOUND_MS = 15_000;

async function settle(value: unknown): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`call did not settle within ${HANG_BOUND_MS} ms`)), HANG_BOUND_MS);
  });
  try {
    await Promise.race([consume(value), hung]);
  } finally {
    clearTimeout(timer);
  }
}

// A scan is consumed for at most 20 entries; a promise is awaited.
async function consume(value: unknown): Promise<void> {
  if (value instanceof Promise) {
    await value;
    return;
  }
  if (value !== null && typeof value === 'object' && Symbol.asyncIterator in value) {
    let n = 0;
    for await (const _ of value as AsyncIterable<unknown>) if (++n >= 20) break;
  }
}

async function makeContext(backend: TimelineBackend): Promise<FuzzContext> {
  const counting = new CountingBackend(backend);
  const now = tickingClock();
  const store = new TimelineStore<unknown>({ backend: counting, table: uniqueTable('fuzz_store') });
  const inbox = new TimelineStore<unknown>({ backend: counting, table: uniqueTable('fuzz_sync'), ttlSeconds: 7 * 86_400 });
  await Promise.all([store.init(), inbox.init()]);
  const sync = new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET, now });
  await sync.push('bob', { text: 'hello' }, { messageId: 'seed' });
  const { cursor } = await sync.sync('bob');
  const history = new StoreTimeline(store);
  // The Messenger's own tables: its inboxes hold envelopes only it writes.
  const messenger = new Messenger<unknown>({
    store: new StoreTimeline(new TimelineStore<never>({ backend: counting, table: uniqueTable('fuzz_mstore') })),
    sync: new SyncTimeline(new TimelineStore<never>({ backend: counting, table: uniqueTable('fuzz_msync'), ttlSeconds: 7 * 86_400 }), { cursorSecret: CURSOR_SECRET, now }),
    largeGroupThreshold: 3,
    largeGroupsOf: () => ['g:large'],
    now,
  });
  await messenger.init();
  const { cursor: messengerCursor } = await messenger.sync('bob');
  return { backend: counting, store, timeline: store.timeline('bob'), history, sync, cursor, now, messenger, messengerCursor };
}

function fuzz(context: () => FuzzContext, numRuns: number, seed: number): Promise<void> {
  const byName = new Map(FUZZ_METHODS.map((method) => [method.name, method]));
  // Drawn by name, so that a counterexample prints as the method's name and its arguments.
  const calls = fc.constantFrom(...byName.keys()).chain((name) => byName.get(name)!.args.map((values) => ({ name, values })));
  return fc.assert(
    fc.asyncProperty(calls, async ({ name, values }) => {
      const method = byName.get(name)!;
      const c = context();
      const rowsBefore = c.backend.rows;
      let error: unknown;
      try {
        await settle(method.call(c, values));
      } catch (caught) {
        error = caught;
      }
      if (error === undefined) return;
      expect(error, `${method.name} rejected with a non-TimelineError: ${String(error)}`).toBeInstanceOf(TimelineError);
      expect(STABLE_CODES, method.name).toContain((error as TimelineError).code);
      expect(c.backend.rows, `${method.name} wrote ${c.backend.rows - rowsBefore} rows before rejecting`).toBe(rowsBefore);
    }),
    { numRuns, seed, endOnFailure: true },
  );
}

describe('fuzzing every public method', () => {
  let memory: FuzzContext | undefined;
  let tablestore: FuzzContext | undefined;
  let tablestoreWire: FuzzContext | undefined;
  let rig: TableStoreRig | undefined;
  let wireRig: TableStoreRig | undefined;
  beforeAll(async () => {
    memory = await makeContext(new MemoryBackend());
    rig = await tableStoreRig(4242, {}, {}, { transport: 'sdk' });
    tablestore = await makeContext(rig.backend);
    wireRig = await tableStoreRig(4243, {}, {}, { transport: 'wire' });
    tablestoreWire = await makeContext(wireRig.backend);
  });
  afterAll(async () => {
    await rig?.close();
    await wireRig?.close();
  });

  it('memory backend: every rejection is a TimelineError with a stable code, and writes nothing', async () => {
    await fuzz(() => memory!, 6000, 11_2026);
  }, 120_000);

  it('TableStore backend (emulator): every rejection is a TimelineError with a stable code, and writes nothing', async () => {
    await fuzz(() => tablestore!, 400, 12_2026);
  }, 120_000);

  it('TableStore backend (emulator, wire transport): every rejection is a TimelineError with a stable code, and writes nothing', async () => {
    await fuzz(() => tablestoreWire!, 400, 13_2026);
  }, 120_000);

  it('covers every method of the table', () => {
    // A method whose arguments cannot be drawn would silently drop out of the fuzzing.
    for (const method of FUZZ_METHODS) expect(fc.sample(method.args, { numRuns: 3, seed: 1 }), method.name).toHaveLength(3);
  });
});
