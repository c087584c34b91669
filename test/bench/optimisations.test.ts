/**
 * Guards for the speed and memory work done for the benchmarks (docs/benchmarks.md): each fast
 * path must behave exactly as the straightforward code it replaced.
 * - jsonCodec's fast path writes standard JSON where JSON is exact, and its decoding shortcut agrees
 *   with what texts mean (exactness itself: test/core/codec-properties.test.ts);
 * - MemoryBackend's compact storage (derived seqs, one-byte strings, lazily kept message ids)
 *   against a reference model, under random appends, clock moves, gets and scans;
 * - Timeline.appendMany's chunking and failure outcomes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jsonCodec,
  MemoryBackend,
  PartialWriteError,
  TimelineError,
  TimelineStore,
  type AppendRow,
  type AppendRowResult,
  type BackendAppendOptions,
  type StoredRow,
  type TimelineBackend,
} from '../../src/index.js';
import { PassThroughBackend } from '../../src/testing/index.js';

// ---------------------------------------------------------------------------------------------
// jsonCodec's fast path. Exactness (round trip, rejections) is proven in test/core/codec-
// properties.test.ts; here: the fast path writes standard JSON, and decoding's shortcut (plain
// JSON.parse when no tag can be present) agrees with what the texts mean.

// True when JSON.stringify(value) is already exact: no -0, no `$`-prefixed or `__proto__` key.
function isStandardJson(value: unknown): boolean {
  if (typeof value === 'number') return !Object.is(value, -0);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(isStandardJson);
  return Object.entries(value).every(([key, item]) => !key.startsWith('$') && key !== '__proto__' && isStandardJson(item));
}

describe('jsonCodec fast path', () => {
  const codec = jsonCodec<unknown>();

  it('writes exactly the bytes of JSON.stringify for values JSON carries exactly, and decodes them equal', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        fc.pre(isStandardJson(value));
        const bytes = codec.encode(value);
        expect(new TextDecoder().decode(bytes)).toBe(JSON.stringify(value));
        expect(codec.decode(bytes)).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('decodes hand-written texts as they mean, including escaped tags and __proto__ keys', () => {
    const decode = (text: string): unknown => codec.decode(new TextEncoder().encode(text));
    const own = (key: string, value: unknown): Record<string, unknown> =>
      Object.defineProperty({}, key, { value, enumerable: true, writable: true, configurable: true }) as Record<string, unknown>;
    expect(decode('{"\\u0024bigint":"5"}')).toBe(5n);
    expect(decode('{"$bigint":"5"}')).toBe(5n);
    expect(decode('{"$escape":{"$bigint":"5"}}')).toEqual({ $bigint: '5' });
    expect(decode('{"a":"\\u0041","b":[1,{"$bigint":"-7"}]}')).toEqual({ a: 'A', b: [1, -7n] });
    expect(Object.is(decode('{"$number":"-0"}'), -0)).toBe(true);
    expect(decode('{"__proto__":{"a":1}}')).toStrictEqual(own('__proto__', { a: 1 }));
    expect(decode('{"__pro\\u0074o__":{"a":1}}')).toStrictEqual(own('__proto__', { a: 1 }));
    expect(() => decode('{"$bigint":"x"}')).toThrow(/malformed/);
    expect(() => decode('[{"$escape":1}]')).toThrow(/malformed/);
    expect(decode('"plain"')).toBe('plain');
    expect(decode('{"a":{"b":{"c":[]}}}')).toEqual({ a: { b: { c: [] } } });
  });

  it('falls back to the exact path for deep trees and reports cycles with their path', () => {
    let deep: unknown = { leaf: 1n };
    for (let i = 0; i < 200; i++) deep = { next: deep };
    expect(codec.decode(codec.encode(deep))).toEqual(deep);
    const cycle: Record<string, unknown> = { a: [1] };
    (cycle.a as unknown[]).push(cycle);
    expect(() => codec.encode(cycle)).toThrow('message.a[1]: a circular reference');
  });

  it('returns views that later encodes never overwrite, and large messages in their own buffer', () => {
    const first = codec.encode({ n: 1, text: 'first' });
    const copy = [...first];
    for (let i = 0; i < 5000; i++) codec.encode({ n: i, text: 'x'.repeat(i % 50) });
    expect([...first]).toEqual(copy);
    const large = codec.encode({ text: 'é'.repeat(10_000) });
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(large.byteLength);
    expect(codec.decode(large)).toEqual({ text: 'é'.repeat(10_000) });
  });
});

// ---------------------------------------------------------------------------------------------
// MemoryBackend against a reference model.

interface ModelEntry {
  seq: bigint;
  payload: number[];
  messageId: string | undefined;
  writtenAt: number;
}

describe('MemoryBackend compact storage', () => {
  it('behaves like a list of entries under random appends, clock moves (also backwards), gets and scans', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('append' as const),
              rows: fc.array(
                fc.record({ timeline: fc.integer({ min: 0, max: 2 }), bytes: fc.uint8Array({ maxLength: 40 }), id: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: undefined }) }),
                { minLength: 1, maxLength: 12 },
              ),
            }),
            // Steps of up to a third of the TTL, so that partial expiry and compaction both happen.
            fc.record({ kind: fc.constant('clock' as const), ms: fc.integer({ min: -3_600_000, max: 30_000_000 }) }),
            fc.record({ kind: fc.constant('clock' as const), ms: fc.integer({ min: 10_000_000, max: 50_000_000 }) }),
            fc.record({ kind: fc.constant('get' as const), timeline: fc.integer({ min: 0, max: 2 }), offset: fc.integer({ min: -3, max: 60 }) }),
            fc.record({
              kind: fc.constant('scan' as const),
              timeline: fc.integer({ min: 0, max: 2 }),
              from: fc.option(fc.integer({ min: -3, max: 60 }), { nil: undefined }),
              to: fc.option(fc.integer({ min: -3, max: 60 }), { nil: undefined }),
              backward: fc.boolean(),
              limit: fc.integer({ min: 1, max: 8 }),
            }),
          ),
          { minLength: 10, maxLength: 80, size: 'max' },
        ),
        fc.boolean(),
        async (ops, ttl) => {
          let now = 1_000_000_000;
          const firstSeq = 2n ** 60n;
          const backend = new MemoryBackend({ now: () => now, firstSeq, maxScanPageRows: 5 });
          const ttlSeconds = ttl ? 86_400 : -1;
          await backend.ensureTable({ table: 't', ttlSeconds });
          const model: ModelEntry[][] = [[], [], []];
          const lastSeq = [firstSeq - 1n, firstSeq - 1n, firstSeq - 1n];
          // Once reclaimed, an expired entry stays gone even if the clock steps back: the backend
          // reclaims on every read of a timeline and, on appends, sweeps the table at most every
          // tenth of the TTL. `reclaimedUpTo` is the highest cutoff applied to each timeline.
          const ttlMs = ttlSeconds * 1000;
          const reclaimedUpTo = [-Infinity, -Infinity, -Infinity];
          let lastSweep = now;
          // The sweep drops a timeline whose entries have all expired; a timeline created after
          // that starts above the highest seq any dropped one used, so a reused id never goes back.
          let droppedFloor = -1n;
          const held = [false, false, false];
          const reclaim = (tl: number): void => {
            reclaimedUpTo[tl] = Math.max(reclaimedUpTo[tl]!, now - ttlMs);
          };
          const visible = (tl: number): ModelEntry[] =>
            model[tl]!.filter((e) => ttlSeconds < 0 || e.writtenAt > Math.max(now - ttlMs, reclaimedUpTo[tl]!));
          const asRow = (tl: number, e: ModelEntry): object =>
            e.messageId === undefined ? { timelineId: `tl${tl}`, seq: e.seq, payload: e.payload } : { timelineId: `tl${tl}`, seq: e.seq, payload: e.payload, messageId: e.messageId };
          const plain = (row: StoredRow): object => ({ ...row, payload: [...row.payload] });
          for (const op of ops) {
            if (op.kind === 'clock') now += op.ms;
            else if (op.kind === 'append') {
              const rows: AppendRow[] = op.rows.map((r) => (r.id === undefined ? { timelineId: `tl${r.timeline}`, payload: r.bytes } : { timelineId: `tl${r.timeline}`, payload: r.bytes, messageId: r.id }));
              if (ttlSeconds >= 0 && now - lastSweep >= ttlMs / 10) {
                lastSweep = now;
                [0, 1, 2].forEach(reclaim);
                for (const tl of [0, 1, 2]) {
                  if (!held[tl] || visible(tl).length > 0) continue;
                  held[tl] = false;
                  if (lastSeq[tl]! > droppedFloor) droppedFloor = lastSeq[tl]!;
                }
              }
              const results = await backend.append('t', rows);
              op.rows.forEach((r, i) => {
                if (!held[r.timeline]) {
                  held[r.timeline] = true;
                  lastSeq[r.timeline] = droppedFloor > firstSeq - 1n ? droppedFloor : firstSeq - 1n;
                }
                const seq = ++lastSeq[r.timeline]!;
                expect(results[i]).toEqual({ ok: true, seq });
                const list = model[r.timeline]!;
                const previous = list.at(-1)?.writtenAt;
                list.push({ seq, payload: [...r.bytes], messageId: r.id, writtenAt: previous !== undefined && previous > now ? previous : now });
                // The caller may reuse its buffer: the stored entry must not change.
                r.bytes.fill(0xee);
              });
            } else if (op.kind === 'get') {
              const seq = firstSeq + BigInt(op.offset);
              const row = await backend.get('t', `tl${op.timeline}`, seq);
              if (ttlSeconds >= 0) reclaim(op.timeline);
              const entry = visible(op.timeline).find((e) => e.seq === seq);
              expect(row === undefined ? undefined : plain(row)).toEqual(entry === undefined ? undefined : asRow(op.timeline, entry));
              // A reader altering its copy must not alter the entry.
              row?.payload.fill(0xdd);
            } else {
              const from = op.from === undefined ? undefined : firstSeq + BigInt(op.from);
              const to = op.to === undefined ? undefined : firstSeq + BigInt(op.to);
              const all = visible(op.timeline);
              const inRange = op.backward
                ? all.filter((e) => (from === undefined || e.seq <= from) && (to === undefined || e.seq > to)).reverse()
                : all.filter((e) => (from === undefined || e.seq >= from) && (to === undefined || e.seq < to));
              const page = await backend.scan('t', { timelineId: `tl${op.timeline}`, direction: op.backward ? 'backward' : 'forward', from, to, limit: op.limit });
              if (ttlSeconds >= 0) reclaim(op.timeline);
              const expected = inRange.slice(0, Math.min(op.limit, 5));
              expect(page.rows.map(plain)).toEqual(expected.map((e) => asRow(op.timeline, e)));
              expect(page.next).toBe(inRange[expected.length]?.seq);
              for (const row of page.rows) row.payload.fill(0xcc);
            }
          }
          expect(backend.size('t')).toBe([0, 1, 2].reduce((n, tl) => n + visible(tl).length, 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps seqs and payloads right across partial expiry, compaction and full expiry', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now, firstSeq: 100n });
    await backend.ensureTable({ table: 't', ttlSeconds: 86_400 });
    const append = async (n: number, id?: string): Promise<void> => {
      await backend.append('t', Array.from({ length: n }, (_, i) => ({ timelineId: 'a', payload: new Uint8Array([n, i]), ...(id ? { messageId: `${id}${i}` } : {}) })));
    };
    const seqs = async (): Promise<bigint[]> => (await backend.scan('t', { timelineId: 'a', direction: 'forward', limit: 100 })).rows.map((r) => r.seq);
    await append(3); // 100-102 at 0
    now = 40_000_000;
    await append(2, 'm'); // 103-104 at 0.46 d
    now = 80_000_000;
    await append(4); // 105-108 at 0.93 d
    now = 86_400_001; // the first 3 of 9 expire: no compaction yet
    expect(await seqs()).toEqual([103n, 104n, 105n, 106n, 107n, 108n]);
    expect(backend.retained('t')).toBe(9);
    now = 40_000_000 + 86_400_001; // 5 of 9 expired: compacted
    expect(backend.retained('t')).toBe(9);
    expect(await seqs()).toEqual([105n, 106n, 107n, 108n]);
    expect(backend.retained('t')).toBe(4);
    expect((await backend.get('t', 'a', 106n))?.payload).toEqual(new Uint8Array([4, 1]));
    expect(await backend.get('t', 'a', 104n)).toBeUndefined();
    await append(1, 'x'); // 109, with a message id after the ids' owners expired
    expect(await backend.get('t', 'a', 109n)).toMatchObject({ seq: 109n, messageId: 'x0' });
    expect(await backend.get('t', 'a', 108n)).not.toHaveProperty('messageId');
    now += 2 * 86_400_000; // everything expired
    expect(await seqs()).toEqual([]);
    expect(backend.retained('t')).toBe(0);
    await append(1);
    expect(await seqs()).toEqual([110n]);
    const back = await backend.scan('t', { timelineId: 'a', direction: 'backward', from: 2n ** 62n, to: 0n, limit: 5 });
    expect(back.rows.map((r) => r.seq)).toEqual([110n]);
  });
});

// ---------------------------------------------------------------------------------------------
// appendMany chunking and outcomes.

type Msg = { n: number };

function wrapped(
  options: { maxBatchRows?: number; orderedBatches?: boolean; maxBatchBytes?: number },
  onAppend: (call: number, rows: readonly AppendRow[], results: AppendRowResult[]) => AppendRowResult[] | Promise<AppendRowResult[]>,
): { backend: TimelineBackend; calls: AppendRow[][] } {
  const calls: AppendRow[][] = [];
  const backend = new (class extends PassThroughBackend {
    override async append(table: string, rows: readonly AppendRow[], o?: BackendAppendOptions): Promise<AppendRowResult[]> {
      calls.push([...rows]);
      return onAppend(calls.length, rows, await super.append(table, rows, o));
    }
  })(new MemoryBackend({ maxBatchRows: options.maxBatchRows ?? 1000 }), {
    orderedBatches: options.orderedBatches ?? true,
    ...(options.maxBatchBytes === undefined ? {} : { maxBatchBytes: options.maxBatchBytes }),
  });
  return { backend, calls };
}

const messages = (count: number): Msg[] => Array.from({ length: count }, (_, n) => ({ n }));

describe('Timeline.appendMany', () => {
  it('splits by rows and by bytes exactly as splitIntoChunks does', async () => {
    const { backend, calls } = wrapped({ maxBatchRows: 3, maxBatchBytes: 60 }, (_, __, results) => results);
    const store = new TimelineStore<Msg>({ backend, table: 't' });
    // '{"n":1}' is 7 bytes, plus the id 'tl' (2): 9 bytes a row, so at most 6 rows fit 60 bytes by size; rows win here.
    await store.timeline('tl').appendMany(messages(8), { messageIds: messages(8).map((m) => `m${m.n}`) });
    expect(calls.map((c) => c.length)).toEqual([3, 3, 2]);
    calls.length = 0;
    // 30-byte messages: two rows (2 × 32 + ids) exceed 60 bytes, so one row per request.
    await store.timeline('tl').appendMany(messages(3).map((m) => ({ n: m.n, pad: 'x'.repeat(19) }) as unknown as Msg));
    expect(calls.map((c) => c.length)).toEqual([1, 1, 1]);
  });

  it('sends one row per request without ordered batches', async () => {
    const { backend, calls } = wrapped({ orderedBatches: false }, (_, __, results) => results);
    const entries = await new TimelineStore<Msg>({ backend, table: 't' }).timeline('tl').appendMany(messages(4));
    expect(calls.map((c) => c.length)).toEqual([1, 1, 1, 1]);
    expect(entries.map((e) => e.message.n)).toEqual([0, 1, 2, 3]);
  });

  it('a row failing in the second request: earlier rows written, the rest of that request as reported, later requests not sent', async () => {
    const rowError = new TimelineError('BACKEND', 'row failed', { retryable: true });
    const { backend, calls } = wrapped({ maxBatchRows: 2 }, (call, _, results) => (call === 2 ? [{ ok: false, error: rowError }, results[1]!] : results));
    const error = await new TimelineStore<Msg>({ backend, table: 't' }).timeline('tl').appendMany(messages(5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialWriteError);
    const outcomes = (error as PartialWriteError<{ message: Msg }>).outcomes;
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, true, false]);
    expect((outcomes[2] as { error: unknown }).error).toBe(rowError);
    expect((outcomes[3] as { entry: { message: Msg } }).entry.message).toEqual({ n: 3 });
    const notSent = (outcomes[4] as { error: TimelineError }).error;
    expect(notSent.code).toBe('PARTIAL_WRITE');
    expect(notSent.cause).toBe(rowError);
    expect(notSent.retryable).toBe(true);
    expect(calls).toHaveLength(2);
    expect((error as PartialWriteError).message).toContain('wrote 3 of 5 messages');
  });

  it('a request that throws: its rows fail with the wrapped error; a first request that throws rejects with it', async () => {
    const { backend } = wrapped({ maxBatchRows: 2 }, (call, _, results) => {
      if (call === 2) throw new Error('connection reset');
      return results;
    });
    const error = await new TimelineStore<Msg>({ backend, table: 't' }).timeline('tl').appendMany(messages(5)).catch((e: unknown) => e);
    const outcomes = (error as PartialWriteError).outcomes;
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, false, false]);
    const failure = (outcomes[2] as { error: TimelineError }).error;
    expect(failure.code).toBe('BACKEND');
    expect(failure.message).toContain('connection reset');
    expect((outcomes[3] as { error: unknown }).error).toBe(failure);
    expect((outcomes[4] as { error: TimelineError }).error.code).toBe('PARTIAL_WRITE');

    const { backend: first } = wrapped({ maxBatchRows: 2 }, () => {
      throw new Error('down');
    });
    const thrown = await new TimelineStore<Msg>({ backend: first, table: 't' }).timeline('tl').appendMany(messages(5)).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(TimelineError);
    expect(thrown).not.toBeInstanceOf(PartialWriteError);
    expect((thrown as TimelineError).message).toContain('down');
  });

  it('a backend that returns too few results makes every row of the request uncertain', async () => {
    const { backend } = wrapped({}, (_, __, results) => results.slice(0, 2));
    const error = await new TimelineStore<Msg>({ backend, table: 't' }).timeline('tl').appendMany(messages(3)).catch((e: unknown) => e);
    // Results that do not line up with the rows cannot say which row was written.
    expect(error).toBeInstanceOf(TimelineError);
    expect((error as TimelineError).code).toBe('WRITE_UNCERTAIN');
    expect((error as TimelineError).message).toContain('answered 2 results for 3 rows');
  });

  it('names the failing message by index, built only on failure', async () => {
    const store = new TimelineStore<unknown>({ backend: new MemoryBackend(), table: 't' });
    await expect(store.timeline('tl').appendMany([1, 2, Number.NaN])).rejects.toMatchObject({ code: 'CODEC', parameter: 'messages[2]' });
    await expect(store.timeline('tl').appendMany([1, 2], { messageIds: ['a', ''] })).rejects.toMatchObject({ parameter: 'options.messageIds[1]' });
    await expect(store.appendBatch([{ timelineId: 'a', message: 1 }, { timelineId: 'b', message: () => 1 }])).rejects.toMatchObject({
      code: 'CODEC',
      parameter: 'items[1].message',
    });
    await expect(store.appendBatch([{ timelineId: 'a', message: 1, messageId: 'x'.repeat(1025) }])).rejects.toMatchObject({ parameter: 'items[0].messageId' });
    await expect(store.appendBatch([{ timelineId: 'é'.repeat(600), message: 1 }])).rejects.toMatchObject({ parameter: 'items[0].timelineId' });
    // 400 two-byte characters are 800 bytes: within the limit even though the fast check cannot tell.
    await expect(store.appendBatch([{ timelineId: 'é'.repeat(400), message: 1 }])).resolves.toHaveLength(1);
  });
});
