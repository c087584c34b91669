import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TimelineStore } from '../../src/core/timeline-store.js';
import { BackendError, PartialWriteError, TimelineError, WriteUncertainError } from '../../src/core/errors.js';
import type { AppendRow } from '../../src/core/backend.js';
import { createRetryStrategy } from '../../src/backends/tablestore/index.js';
import { bytes, collect, harness, requests, tableName, text, timelineId, type Harness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.emu.faults.clear();
});

async function table(backend = h.backend): Promise<string> {
  const name = tableName();
  await backend.ensureTable({ table: name, ttlSeconds: -1 });
  return name;
}

/** Every row of a timeline, oldest first, as text. */
async function contents(name: string, id: string): Promise<{ seq: bigint; text: string; messageId?: string }[]> {
  const page = await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 5000 });
  return page.rows.map((r) => ({ seq: r.seq, text: text(r.payload), ...(r.messageId === undefined ? {} : { messageId: r.messageId }) }));
}

describe('request shape and batch splitting', () => {
  it('writes one row with PutRow and several with one BatchWriteRow', async () => {
    const name = await table();
    const id = timelineId();
    const before = { put: requests(h.emu, 'PutRow'), batch: requests(h.emu, 'BatchWriteRow') };
    const [one] = await h.backend.append(name, [{ timelineId: id, payload: bytes('a'), messageId: 'm-a' }]);
    expect(one?.ok).toBe(true);
    const three = await h.backend.append(name, ['b', 'c', 'd'].map((t) => ({ timelineId: id, payload: bytes(t) })));
    expect(three.every((r) => r.ok)).toBe(true);
    expect(requests(h.emu, 'PutRow') - before.put).toBe(1);
    expect(requests(h.emu, 'BatchWriteRow') - before.batch).toBe(1);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(['a', 'b', 'c', 'd']);
    expect((await contents(name, id))[0]?.messageId).toBe('m-a');
  });

  it('201 rows through the store are 2 BatchWriteRow requests (200 + 1 rows)', async () => {
    const store = new TimelineStore<number>({ backend: h.backend, table: tableName() });
    await store.init();
    const before = { put: requests(h.emu, 'PutRow'), batch: requests(h.emu, 'BatchWriteRow') };
    const ids = Array.from({ length: 201 }, () => timelineId('r'));
    const outcomes = await store.appendBatch(ids.map((id, n) => ({ timelineId: id, message: n })));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(requests(h.emu, 'BatchWriteRow') - before.batch + requests(h.emu, 'PutRow') - before.put).toBe(2);
    expect(h.emu.stats().rows[store.table]).toBe(201);
  });

  it('the backend splits on its own when given more than 200 rows', async () => {
    const name = await table();
    const id = timelineId();
    const before = requests(h.emu, 'BatchWriteRow');
    const rows: AppendRow[] = Array.from({ length: 450 }, (_, n) => ({ timelineId: id, payload: bytes(String(n)) }));
    const results = await h.backend.append(name, rows);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(requests(h.emu, 'BatchWriteRow') - before).toBe(3);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(rows.map((_, n) => String(n)));
  });

  it('two 3 MB messages are 2 requests, and a message over 2 MB round-trips (split over columns)', async () => {
    const store = new TimelineStore<Uint8Array>({
      backend: h.backend,
      table: tableName(),
      codec: { encode: (m) => m, decode: (b) => Uint8Array.from(b) },
    });
    await store.init();
    const big = (seed: number): Uint8Array => {
      const out = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed) & 0xff;
      return out;
    };
    const before = { put: requests(h.emu, 'PutRow'), batch: requests(h.emu, 'BatchWriteRow') };
    const id = timelineId();
    const outcomes = await store.appendBatch([
      { timelineId: id, message: big(1) },
      { timelineId: id, message: big(2) },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(requests(h.emu, 'PutRow') - before.put + requests(h.emu, 'BatchWriteRow') - before.batch).toBe(2);
    const read = await collect(store.timeline(id).scan());
    expect(read).toHaveLength(2);
    // appendBatch sends the two requests concurrently, so either may get the lower seq.
    const bySeq = new Map(read.map((e) => [e.seq, e.message]));
    outcomes.forEach((o, i) => {
      const stored = o.ok ? bySeq.get(o.entry.seq) : undefined;
      expect(stored && Buffer.compare(Buffer.from(stored), Buffer.from(big(i + 1)))).toBe(0);
    });
    const one = outcomes[1]!.ok ? outcomes[1]!.entry.seq : 0n;
    expect(Buffer.compare(Buffer.from((await store.timeline(id).get(one))!.message), Buffer.from(big(2)))).toBe(0);
  });

  it('the declared limits are honest: the largest message with the longest ids fits one request', async () => {
    const name = await table();
    const id = `${'t'.repeat(1020)}:${Math.random().toString(36).slice(2, 5)}`;
    const payload = new Uint8Array(h.backend.capabilities.maxMessageBytes).fill(7);
    const messageId = 'm'.repeat(1024);
    const row = { timelineId: id, payload, messageId };
    const { estimateRowBytes } = await import('../../src/core/backend.js');
    expect(estimateRowBytes(row, h.backend.capabilities)).toBeLessThanOrEqual(h.backend.capabilities.maxBatchBytes);
    const [result] = await h.backend.append(name, [row]);
    expect(result?.ok).toBe(true);
    const read = await h.backend.get(name, id, result!.ok ? result!.seq : 0n);
    expect(read?.payload.byteLength).toBe(payload.byteLength);
    expect(read?.messageId).toBe(messageId);
  });

  it('rejects a message over the limit without sending it', async () => {
    const name = await table();
    const before = requests(h.emu, 'PutRow');
    const [result] = await h.backend.append(name, [{ timelineId: timelineId(), payload: new Uint8Array(h.backend.capabilities.maxMessageBytes + 1) }]);
    expect(result?.ok).toBe(false);
    expect(!result?.ok && result?.error.code).toBe('MESSAGE_TOO_LARGE');
    expect(requests(h.emu, 'PutRow')).toBe(before);
  });
});

describe('retries', () => {
  it('re-sends only the rows that failed with a retryable code', async () => {
    const name = await table();
    const id = timelineId();
    h.emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [1, 3], times: 1 });
    const before = { put: requests(h.emu, 'PutRow'), batch: requests(h.emu, 'BatchWriteRow') };
    const results = await h.backend.append(name, ['a', 'b', 'c', 'd', 'e'].map((t) => ({ timelineId: id, payload: bytes(t) })));
    expect(results.every((r) => r.ok)).toBe(true);
    // One batch of 5, then one batch of the 2 failed rows: never the 3 written ones again.
    expect(requests(h.emu, 'BatchWriteRow') - before.batch).toBe(2);
    expect(requests(h.emu, 'PutRow') - before.put).toBe(0);
    const rows = await contents(name, id);
    expect(rows.map((r) => r.text).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    const seqs = results.map((r) => (r.ok ? r.seq : -1n));
    expect(rows.map((r) => r.seq).sort()).toEqual([...seqs].sort());
  });

  it('retries a whole request rejected with a retryable code (OTSServerBusy, OTSRowOperationConflict)', async () => {
    const name = await table();
    const id = timelineId();
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSServerBusy', times: 2 });
    h.emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSRowOperationConflict', times: 1 });
    const before = { put: requests(h.emu, 'PutRow'), batch: requests(h.emu, 'BatchWriteRow') };
    expect((await h.backend.append(name, [{ timelineId: id, payload: bytes('x') }]))[0]?.ok).toBe(true);
    expect((await h.backend.append(name, [{ timelineId: id, payload: bytes('y') }, { timelineId: id, payload: bytes('z') }])).every((r) => r.ok)).toBe(true);
    expect(requests(h.emu, 'PutRow') - before.put).toBe(3);
    expect(requests(h.emu, 'BatchWriteRow') - before.batch).toBe(2);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(['x', 'y', 'z']);
  });

  it('reports a non-retryable row error at once, never retrying it', async () => {
    const name = await table();
    const id = timelineId();
    h.emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSParameterInvalid', message: 'bad row' }, rows: [1], times: 1 });
    const before = requests(h.emu, 'BatchWriteRow');
    const results = await h.backend.append(name, ['a', 'b', 'c'].map((t) => ({ timelineId: id, payload: bytes(t) })));
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const error = !results[1]!.ok ? results[1]!.error : undefined;
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'OTSParameterInvalid', retryable: false, timelineId: id });
    expect(error?.message).toContain('bad row');
    expect(requests(h.emu, 'BatchWriteRow') - before).toBe(1);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(['a', 'c']);
  });

  it('reports a non-retryable request error at once (with status and request id)', async () => {
    const name = await table();
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSAuthFailed', message: 'Signature mismatch.', times: 1 });
    const before = requests(h.emu, 'PutRow');
    const [result] = await h.backend.append(name, [{ timelineId: timelineId(), payload: bytes('a') }]);
    expect(result?.ok).toBe(false);
    const error = !result!.ok ? result!.error : undefined;
    expect(error).toMatchObject({ backendCode: 'OTSAuthFailed', status: 403, retryable: false });
    expect((error as BackendError).requestId).toMatch(/\w/);
    expect(requests(h.emu, 'PutRow') - before).toBe(1);
  });

  it('when the budget is exhausted, the error says so and names the option; no attempt starts after the strategy said stop', async () => {
    const name = await table();
    const inner = createRetryStrategy({ budgetMs: 60, baseDelayMs: 5, maxDelayMs: 10 });
    const answers: (number | null)[] = [];
    const backend = h.another({
      retryStrategy: (context) => {
        const delay = inner(context);
        answers.push(delay);
        return delay;
      },
    });
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSServerBusy' });
    const before = requests(h.emu, 'PutRow');
    const [result] = await backend.append(name, [{ timelineId: timelineId(), payload: bytes('a') }]);
    expect(result?.ok).toBe(false);
    const error = !result!.ok ? (result!.error as BackendError) : undefined;
    expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'OTSServerBusy', status: 503, retryable: true });
    expect(error?.message).toMatch(/retry budget is exhausted/);
    expect(error?.message).toContain('retryStrategy');
    // One attempt per answer: the first, then one after each delay; none after the final null.
    expect(answers.at(-1)).toBeNull();
    expect(answers.slice(0, -1).every((delay) => delay !== null)).toBe(true);
    expect(requests(h.emu, 'PutRow') - before).toBe(answers.length);
    expect(answers.length).toBeGreaterThan(1);
    expect(h.emu.stats().rows[name] ?? 0).toBe(0);
  });

  it('a custom retryStrategy sees attempts, errors and elapsed time; null stops at once', async () => {
    const name = await table();
    const seen: { attempt: number; code: string | undefined; operation: string }[] = [];
    const backend = h.another({
      retryStrategy: ({ attempt, error, operation }) => {
        seen.push({ attempt, code: error.backendCode, operation });
        return attempt < 3 ? 1 : null;
      },
    });
    h.emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSNotEnoughCapacityUnit' });
    const results = await backend.append(name, [{ timelineId: timelineId(), payload: bytes('a') }, { timelineId: timelineId(), payload: bytes('b') }]);
    expect(results.every((r) => !r.ok && (r.error as BackendError).backendCode === 'OTSNotEnoughCapacityUnit')).toBe(true);
    expect(seen).toEqual([
      { attempt: 1, code: 'OTSNotEnoughCapacityUnit', operation: 'append' },
      { attempt: 2, code: 'OTSNotEnoughCapacityUnit', operation: 'append' },
      { attempt: 3, code: 'OTSNotEnoughCapacityUnit', operation: 'append' },
    ]);
  });
});

describe('ambiguous writes', () => {
  it('apply-then-drop on PutRow leaves exactly one entry and reports its seq', async () => {
    const name = await table();
    const id = timelineId();
    h.emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });
    const before = requests(h.emu, 'PutRow');
    const [result] = await h.backend.append(name, [{ timelineId: id, payload: bytes('once'), messageId: 'm-1' }]);
    expect(result?.ok).toBe(true);
    expect(requests(h.emu, 'PutRow') - before).toBe(1);
    const rows = await contents(name, id);
    expect(rows).toEqual([{ seq: result!.ok ? result!.seq : -1n, text: 'once', messageId: 'm-1' }]);
  });

  it('apply-then-drop without a message id is settled too (internal write ids)', async () => {
    const name = await table();
    const id = timelineId();
    await h.backend.append(name, [{ timelineId: id, payload: bytes('earlier') }]);
    h.emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });
    const [result] = await h.backend.append(name, [{ timelineId: id, payload: bytes('once') }]);
    expect(result?.ok).toBe(true);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(['earlier', 'once']);
  });

  it('apply-then-drop on BatchWriteRow across timelines leaves exactly one entry each', async () => {
    const name = await table();
    const ids = [timelineId(), timelineId(), timelineId()];
    h.emu.faults.inject({ api: 'BatchWriteRow', drop: 'after-apply', times: 1 });
    const rows = Array.from({ length: 9 }, (_, n) => ({ timelineId: ids[n % 3]!, payload: bytes(`m${n}`) }));
    const results = await h.backend.append(name, rows);
    expect(results.every((r) => r.ok)).toBe(true);
    for (const [k, id] of ids.entries()) {
      const stored = await contents(name, id);
      expect(stored.map((r) => r.text)).toEqual([`m${k}`, `m${k + 3}`, `m${k + 6}`]);
      expect(stored.map((r) => r.seq)).toEqual([k, k + 3, k + 6].map((n) => (results[n]!.ok ? results[n]!.seq : -1n)));
    }
    expect(h.emu.stats().rows[name]).toBe(9);
  });

  it('drop-before-apply, then success, leaves exactly one entry', async () => {
    const name = await table();
    const id = timelineId();
    h.emu.faults.inject({ api: 'PutRow', drop: 'before-apply', times: 1 });
    const before = requests(h.emu, 'PutRow');
    const [result] = await h.backend.append(name, [{ timelineId: id, payload: bytes('once'), messageId: 'm-1' }]);
    expect(result?.ok).toBe(true);
    expect(requests(h.emu, 'PutRow') - before).toBe(2);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(['once']);
  });

  it('a 500 on a batch whose rows were not applied: found absent, re-sent once', async () => {
    const name = await table();
    const id = timelineId();
    h.emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSInternalServerError', times: 1 });
    const results = await h.backend.append(name, ['a', 'b'].map((t) => ({ timelineId: id, payload: bytes(t) })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await contents(name, id)).map((r) => r.text)).toEqual(['a', 'b']);
  });

  it('when the check itself fails: WriteUncertainError; re-sending the same message id does not duplicate', async () => {
    const name = await table();
    const id = timelineId();
    const backend = h.another({ retryStrategy: createRetryStrategy({ budgetMs: 100, baseDelayMs: 1, maxDelayMs: 10 }) });
    h.emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });
    const readFault = h.emu.faults.inject({ api: 'GetRange', code: 'OTSServerBusy' });
    const [first] = await backend.append(name, [{ timelineId: id, payload: bytes('m'), messageId: 'm-42' }]);
    expect(first?.ok).toBe(false);
    const error = !first!.ok ? first!.error : undefined;
    expect(error).toBeInstanceOf(WriteUncertainError);
    expect(error).toMatchObject({ code: 'WRITE_UNCERTAIN', retryable: true, timelineId: id });
    expect(error?.message).toMatch(/may or may not have been applied/);
    h.emu.faults.remove(readFault);
    const putsBefore = requests(h.emu, 'PutRow');
    const [again] = await backend.append(name, [{ timelineId: id, payload: bytes('m'), messageId: 'm-42' }]);
    expect(again?.ok).toBe(true);
    // The earlier write had landed: found, not written again.
    expect(requests(h.emu, 'PutRow')).toBe(putsBefore);
    const rows = await contents(name, id);
    expect(rows).toEqual([{ seq: again!.ok ? again!.seq : -1n, text: 'm', messageId: 'm-42' }]);
  });

  it('a row the window cannot settle is a WriteUncertainError, not a guess', async () => {
    const name = await table();
    const id = timelineId();
    const backend = h.another({ ambiguityWindowRows: 3 });
    await backend.append(name, Array.from({ length: 5 }, (_, n) => ({ timelineId: id, payload: bytes(`old${n}`) })));
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSTimeout', times: 1 });
    const [result] = await backend.append(name, [{ timelineId: id, payload: bytes('new') }]);
    expect(result?.ok).toBe(false);
    expect(!result!.ok && result!.error.code).toBe('WRITE_UNCERTAIN');
    expect(!result!.ok && result!.error.message).toContain('ambiguityWindowRows');
  });
});

describe('orderedBatches', () => {
  it('is false by default: appendMany sends one row per request', async () => {
    expect(h.backend.capabilities.orderedBatches).toBe(false);
    const store = new TimelineStore<number>({ backend: h.backend, table: tableName() });
    const before = requests(h.emu, 'PutRow');
    const entries = await store.timeline(timelineId()).appendMany([1, 2, 3]);
    expect(entries.map((e) => e.message)).toEqual([1, 2, 3]);
    expect(requests(h.emu, 'PutRow') - before).toBe(3);
  });

  it('when true, appendMany batches, and a failed row is only re-sent if no later row was written', async () => {
    const backend = h.another({ orderedBatches: true });
    expect(backend.capabilities.orderedBatches).toBe(true);
    const store = new TimelineStore<number>({ backend, table: tableName() });
    const tl = store.timeline(timelineId());
    const before = requests(h.emu, 'BatchWriteRow');
    // The last row fails: it is re-sent, after the others, and order holds.
    h.emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [2], times: 1 });
    const entries = await tl.appendMany([1, 2, 3]);
    expect(entries.map((e) => e.message)).toEqual([1, 2, 3]);
    expect(entries[2]!.seq > entries[1]!.seq).toBe(true);
    expect(requests(h.emu, 'BatchWriteRow') - before).toBe(1);
    // A middle row fails: re-sending it would land behind row 3, so it fails (retryably) instead.
    h.emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [1], times: 1 });
    const error = await tl.appendMany([4, 5, 6]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartialWriteError);
    const outcomes = (error as PartialWriteError).outcomes;
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const failure = !outcomes[1]!.ok ? outcomes[1]!.error : undefined;
    expect(failure).toMatchObject({ retryable: true, backendCode: 'OTSServerBusy' });
    expect(failure?.message).toMatch(/break input order/);
    expect((await collect(tl.scan())).map((e) => e.message)).toEqual([1, 2, 3, 4, 6]);
  });
});

describe('abort and close during writes', () => {
  it('an aborted signal stops retries; rows never written fail with ABORTED', async () => {
    const name = await table();
    h.emu.faults.inject({ api: 'PutRow', code: 'OTSServerBusy' });
    const controller = new AbortController();
    // Aborts while the third pause is starting: no fourth attempt may follow.
    const backend = h.another({
      retryStrategy: ({ attempt }) => {
        if (attempt === 3) controller.abort();
        return attempt < 100 ? 50 : null;
      },
    });
    const before = requests(h.emu, 'PutRow');
    const [result] = await backend.append(name, [{ timelineId: timelineId(), payload: bytes('a') }], { signal: controller.signal });
    expect(result?.ok).toBe(false);
    expect(!result!.ok && result!.error.code).toBe('ABORTED');
    expect(requests(h.emu, 'PutRow') - before).toBe(3);
  });

  it('an in-flight append finishes when the backend closes; later calls reject with CLOSED', async () => {
    const name = await table();
    const backend = h.another();
    // The emulator holds the request, unanswered, until released: close() is called meanwhile.
    h.emu.faults.inject({ api: 'PutRow', hold: 'until-released', times: 1 });
    let settled = false;
    const pending = backend.append(name, [{ timelineId: timelineId(), payload: bytes('a') }]).finally(() => {
      settled = true;
    });
    await h.emu.faults.whenHeld(1, 5000);
    const closing = backend.close();
    await expect(backend.append(name, [{ timelineId: timelineId(), payload: bytes('b') }])).rejects.toMatchObject({ code: 'CLOSED' });
    expect(settled).toBe(false);
    expect(await h.emu.faults.release()).toBe(1);
    expect((await pending)[0]?.ok).toBe(true);
    await closing;
    await backend.close();
    await expect(backend.get(name, 'x', 1n)).rejects.toBeInstanceOf(TimelineError);
  });
});
