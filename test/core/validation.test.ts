import { describe, expect, it } from 'vitest';
import {
  MemoryBackend,
  PartialWriteError,
  TimelineError,
  TimelineStore,
  ValidationError,
  type AppendRow,
  type AppendRowResult,
  type TimelineBackend,
} from '../../src/index.js';

type Msg = { text: string; n?: number };

function setup(options: { maxMessageBytes?: number } = {}) {
  const backend = new MemoryBackend({ maxMessageBytes: options.maxMessageBytes ?? 1024 });
  const store = new TimelineStore<Msg>({ backend, table: 't' });
  return { backend, store, tl: store.timeline('user:bob') };
}

function expectValidation(fn: () => unknown, parameter: string, pattern: RegExp, code = 'INVALID_ARGUMENT') {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const error = caught as ValidationError;
  expect(error.code).toBe(code);
  expect(error.parameter).toBe(parameter);
  expect(error.message).toMatch(pattern);
}

async function expectRejectsValidation(promise: Promise<unknown>, parameter: string, pattern: RegExp, code = 'INVALID_ARGUMENT') {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).code).toBe(code);
  expect((error as ValidationError).parameter).toBe(parameter);
  expect((error as ValidationError).message).toMatch(pattern);
}

describe('TimelineStore options', () => {
  const backend = new MemoryBackend();
  it('rejects a missing or non-backend `backend`', () => {
    expectValidation(() => new TimelineStore({ backend: undefined as never, table: 't' }), 'options.backend', /TimelineBackend/);
    expectValidation(() => new TimelineStore({ backend: {} as never, table: 't' }), 'options.backend', /TimelineBackend/);
  });
  it('rejects invalid table names', () => {
    for (const table of ['', '1abc', 'a-b', 'x'.repeat(256), 42]) {
      expectValidation(() => new TimelineStore({ backend, table: table as string }), 'options.table', /letters, digits and underscores/);
    }
  });
  it('accepts TTL -1, omitted, or >= 86400; rejects 0, 1..86399, fractions, NaN, strings', () => {
    expect(new TimelineStore({ backend, table: 't' }).ttlSeconds).toBe(-1);
    expect(new TimelineStore({ backend, table: 't', ttlSeconds: -1 }).ttlSeconds).toBe(-1);
    expect(new TimelineStore({ backend, table: 't', ttlSeconds: 86_400 }).ttlSeconds).toBe(86_400);
    for (const ttl of [0, 1, 86_399, -2, 86_400.5, Number.NaN, Number.POSITIVE_INFINITY, '86400']) {
      expectValidation(() => new TimelineStore({ backend, table: 't', ttlSeconds: ttl as number }), 'options.ttlSeconds', /at least 86400 seconds/);
    }
  });
  it('rejects a codec without encode/decode, a bad TTL policy and a bad concurrency', () => {
    expectValidation(() => new TimelineStore({ backend, table: 't', codec: {} as never }), 'options.codec', /encode/);
    expectValidation(() => new TimelineStore({ backend, table: 't', onTtlMismatch: 'ignore' as never }), 'options.onTtlMismatch', /'update' or 'error'/);
    expectValidation(() => new TimelineStore({ backend, table: 't', writeConcurrency: 0 }), 'options.writeConcurrency', /from 1 and up/);
  });
  it('rejects bad MemoryBackend options', () => {
    expectValidation(() => new MemoryBackend({ firstSeq: 1 as never }), 'options.firstSeq', /bigint/);
    expectValidation(() => new MemoryBackend({ firstSeq: -1n }), 'options.firstSeq', /from 0n/);
    expectValidation(() => new MemoryBackend({ maxScanPageRows: 1.5 }), 'options.maxScanPageRows', /from 1 and up/);
    expectValidation(() => new MemoryBackend({ now: 5 as never }), 'options.now', /function/);
  });
});

describe('timeline ids', () => {
  const { store } = setup();
  it('rejects empty and non-string ids', () => {
    for (const id of ['', undefined, null, 5, {}]) expectValidation(() => store.timeline(id as string), 'timelineId', /non-empty string/);
  });
  it('accepts exactly 1024 bytes of UTF-8 and rejects 1025 (multi-byte characters counted as bytes)', () => {
    expect(store.timeline('a'.repeat(1024)).id).toHaveLength(1024);
    expectValidation(() => store.timeline('a'.repeat(1025)), 'timelineId', /at most 1024 bytes.*got 1025 bytes/);
    // 342 three-byte characters = 1026 bytes although only 342 UTF-16 units.
    expectValidation(() => store.timeline('中'.repeat(342)), 'timelineId', /got 1026 bytes/);
  });
});

describe('seqs, limits and scan options', () => {
  const { tl } = setup();
  it('get rejects a seq that is not a non-negative 64-bit bigint', async () => {
    await expectRejectsValidation(tl.get(1 as never), 'seq', /bigint/);
    await expectRejectsValidation(tl.get(-1n), 'seq', /from 0n/);
    await expectRejectsValidation(tl.get(2n ** 63n), 'seq', /from 0n to 9223372036854775807n/);
    await expect(tl.get(2n ** 63n - 1n)).resolves.toBeUndefined();
  });
  it('scan rejects invalid bounds, limits, page sizes, directions and signals at call time', () => {
    expectValidation(() => tl.scan({ from: 1 as never }), 'options.from', /bigint/);
    expectValidation(() => tl.scan({ to: -5n }), 'options.to', /from 0n/);
    for (const limit of [0, -1, 1.5, Number.NaN, '3']) {
      expectValidation(() => tl.scan({ limit: limit as number }), 'options.limit', /integer from 1 and up/);
    }
    expectValidation(() => tl.scan({ pageSize: 0 }), 'options.pageSize', /integer from 1 and up/);
    expectValidation(() => tl.scan({ direction: 'up' as never }), 'options.direction', /'forward' or 'backward'/);
    expectValidation(() => tl.scan({ signal: {} as never }), 'options.signal', /AbortSignal/);
    expectValidation(() => tl.scan('x' as never), 'options', /object/);
  });
});

describe('messages and message ids', () => {
  it('rejects a message the codec cannot encode, naming where in the message', async () => {
    const { tl, backend } = setup();
    const cases: [unknown, RegExp][] = [
      [{ text: 'x', n: Number.NaN }, /message\.n: the number NaN/],
      [{ text: 'x', n: Number.POSITIVE_INFINITY }, /message\.n: the number Infinity/],
      [{ text: 'x', at: new Date() }, /message\.at: a Date instance/],
      [{ text: 'x', m: new Map() }, /message\.m: a Map instance/],
      [{ text: 'x', f: () => 1 }, /message\.f: a function/],
      [{ text: 'x', list: [1, undefined] }, /message\.list\[1\]: undefined/],
      [undefined, /message: undefined/],
    ];
    for (const [message, pattern] of cases) {
      await expectRejectsValidation(tl.append(message as Msg), 'message', pattern, 'CODEC');
    }
    const circular: Record<string, unknown> = { text: 'x' };
    circular.self = circular;
    await expectRejectsValidation(tl.append(circular as Msg), 'message', /circular/, 'CODEC');
    expect(backend.retained('t')).toBe(0);
  });
  it('rejects an encoded message over the backend limit with MESSAGE_TOO_LARGE', async () => {
    const { tl, backend } = setup({ maxMessageBytes: 100 });
    await expectRejectsValidation(tl.append({ text: 'x'.repeat(200) }), 'message', /over the memory backend's limit of 100 bytes/, 'MESSAGE_TOO_LARGE');
    await expect(tl.append({ text: 'x'.repeat(50) })).resolves.toMatchObject({ message: { text: 'x'.repeat(50) } });
    expect(backend.retained('t')).toBe(1);
  });
  it('rejects invalid message ids', async () => {
    const { tl } = setup();
    await expectRejectsValidation(tl.append({ text: 'x' }, { messageId: '' }), 'options.messageId', /non-empty string/);
    await expectRejectsValidation(tl.append({ text: 'x' }, { messageId: 7 as never }), 'options.messageId', /non-empty string/);
    await expectRejectsValidation(tl.append({ text: 'x' }, { messageId: 'm'.repeat(1025) }), 'options.messageId', /at most 1024 bytes/);
  });
  it('a rejected appendMany writes nothing, whichever message is bad', async () => {
    const { tl, backend } = setup({ maxMessageBytes: 100 });
    await expectRejectsValidation(tl.appendMany([{ text: 'a' }, { text: 'b' }, { text: 'x'.repeat(500) }]), 'messages[2]', /over the memory backend's limit/, 'MESSAGE_TOO_LARGE');
    await expectRejectsValidation(tl.appendMany([{ text: 'a' }, { text: 'b', n: Number.NaN }]), 'messages[1]', /NaN/, 'CODEC');
    await expectRejectsValidation(tl.appendMany([{ text: 'a' }], { messageIds: ['a', 'b'] }), 'options.messageIds', /array of 1 ids/);
    await expectRejectsValidation(tl.appendMany([{ text: 'a' }, { text: 'b' }], { messageIds: ['a', ''] }), 'options.messageIds[1]', /non-empty/);
    await expectRejectsValidation(tl.appendMany('abc' as never), 'messages', /array/);
    expect(backend.retained('t')).toBe(0);
  });
  it('a rejected appendBatch writes nothing', async () => {
    const { store, backend } = setup();
    await expectRejectsValidation(
      store.appendBatch([
        { timelineId: 'a', message: { text: 'ok' } },
        { timelineId: '', message: { text: 'ok' } },
      ]),
      'items[1].timelineId',
      /non-empty string/,
    );
    await expectRejectsValidation(store.appendBatch([{ timelineId: 'a', message: { text: 'ok' } }], { concurrency: 0 }), 'options.concurrency', /from 1 and up/);
    expect(backend.retained('t')).toBe(0);
  });
});

describe('lifecycle and errors', () => {
  it('init is shared by concurrent callers and retried after a failure', async () => {
    const backend = new MemoryBackend();
    let calls = 0;
    const flaky: TimelineBackend = {
      capabilities: backend.capabilities,
      async ensureTable(spec, options) {
        calls += 1;
        if (calls === 1) throw new Error('temporarily unavailable');
        return backend.ensureTable(spec, options);
      },
      append: (t, r, o) => backend.append(t, r, o),
      get: (t, i, s, o) => backend.get(t, i, s, o),
      scan: (t, r) => backend.scan(t, r),
      close: () => backend.close(),
    };
    const store = new TimelineStore<Msg>({ backend: flaky, table: 't' });
    const results = await Promise.allSettled([store.init(), store.init()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    const error = (results[0] as PromiseRejectedResult).reason as TimelineError;
    expect(error).toBeInstanceOf(TimelineError);
    expect(error.code).toBe('BACKEND');
    expect(error.operation).toBe('init');
    expect(error.cause).toBeInstanceOf(Error);
    await expect(store.timeline('a').append({ text: 'x' })).resolves.toMatchObject({ seq: 1n });
    expect(calls).toBe(2);
  });

  it('appendMany reports a partial failure per message and sends nothing after the failure', async () => {
    const backend = new MemoryBackend({ maxBatchRows: 2 });
    let call = 0;
    const failing: TimelineBackend = {
      capabilities: backend.capabilities,
      ensureTable: (s, o) => backend.ensureTable(s, o),
      async append(table, rows: readonly AppendRow[], options): Promise<AppendRowResult[]> {
        call += 1;
        const results = await backend.append(table, rows, options);
        // Second request: its second row fails.
        return call === 2
          ? results.map((r, i) => (i === 1 ? { ok: false, error: new TimelineError('BACKEND', 'row failed', { retryable: true }) } : r))
          : results;
      },
      get: (t, i, s, o) => backend.get(t, i, s, o),
      scan: (t, r) => backend.scan(t, r),
      close: () => backend.close(),
    };
    const store = new TimelineStore<Msg>({ backend: failing, table: 't' });
    const error = await store
      .timeline('a')
      .appendMany([1, 2, 3, 4, 5, 6].map((n) => ({ text: 'x', n })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialWriteError);
    const partial = error as PartialWriteError<{ seq: bigint }>;
    expect(partial.code).toBe('PARTIAL_WRITE');
    expect(partial.outcomes.map((o) => o.ok)).toEqual([true, true, true, false, false, false]);
    expect(partial.written.map((e) => e.seq)).toEqual([1n, 2n, 3n]);
    expect(partial.retryable).toBe(true);
    expect(call).toBe(2);
  });

  it('store.close() makes later calls reject with CLOSED without closing the backend', async () => {
    const { store, backend } = setup();
    await store.timeline('a').append({ text: 'x' });
    await store.close();
    await store.close();
    await expect(store.timeline('a').append({ text: 'y' })).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store.init()).rejects.toMatchObject({ code: 'CLOSED' });
    const other = new TimelineStore<Msg>({ backend, table: 't' });
    await expect(other.timeline('a').append({ text: 'z' })).resolves.toMatchObject({ seq: 2n });
  });

  it('an aborted append is not sent', async () => {
    const { tl, backend } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(tl.append({ text: 'x' }, { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(backend.retained('t')).toBe(0);
  });

  it('appendBatch reports aborted and failed rows as outcomes instead of throwing', async () => {
    const { store } = setup();
    const controller = new AbortController();
    controller.abort();
    const outcomes = await store.appendBatch([{ timelineId: 'a', message: { text: 'x' } }], { signal: controller.signal });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
  });
});

describe('appendBatch encoding', () => {
  it('encodes a message shared by consecutive items once, and each distinct message separately', async () => {
    let calls = 0;
    const backend = new MemoryBackend({ maxBatchRows: 50 });
    const store = new TimelineStore<{ text: string }>({
      backend,
      table: 't',
      codec: {
        encode: (m) => {
          calls += 1;
          return new TextEncoder().encode(JSON.stringify(m));
        },
        decode: (b) => JSON.parse(new TextDecoder().decode(b)) as { text: string },
      },
    });
    const shared = { text: 'to everyone' };
    const other = { text: 'just one' };
    const items = Array.from({ length: 120 }, (_, i) => ({ timelineId: `user:${i}`, message: i === 60 ? other : shared }));
    const outcomes = await store.appendBatch(items);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(calls).toBe(3); // shared, other, shared again
    expect((await store.timeline('user:60').latest())?.message).toEqual(other);
    expect((await store.timeline('user:119').latest())?.message).toEqual(shared);
  });
});
