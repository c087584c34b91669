import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TimelineStore } from '../../src/core/timeline-store.js';
import { AbortedError } from '../../src/core/errors.js';
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

async function filled(count: number): Promise<{ name: string; id: string; seqs: bigint[] }> {
  const name = tableName();
  await h.backend.ensureTable({ table: name, ttlSeconds: -1 });
  const id = timelineId();
  const results = await h.backend.append(name, Array.from({ length: count }, (_, n) => ({ timelineId: id, payload: bytes(String(n)) })));
  return { name, id, seqs: results.map((r) => (r.ok ? r.seq : -1n)) };
}

describe('scan pages', () => {
  it('continues from nextStartPrimaryKey in both directions: next is the inclusive start of the following page', async () => {
    const { name, id, seqs } = await filled(7);
    const forward = await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 3 });
    expect(forward.rows.map((r) => text(r.payload))).toEqual(['0', '1', '2']);
    expect(forward.next).toBe(seqs[3]);
    const second = await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 3, from: forward.next! });
    expect(second.rows.map((r) => text(r.payload))).toEqual(['3', '4', '5']);
    const last = await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 3, from: second.next! });
    expect(last.rows.map((r) => text(r.payload))).toEqual(['6']);
    expect(last.next).toBeUndefined();
    const backward = await h.backend.scan(name, { timelineId: id, direction: 'backward', limit: 4, to: seqs[0]! });
    expect(backward.rows.map((r) => text(r.payload))).toEqual(['6', '5', '4', '3']);
    expect(backward.next).toBe(seqs[2]);
    const rest = await h.backend.scan(name, { timelineId: id, direction: 'backward', limit: 4, from: backward.next!, to: seqs[0]! });
    expect(rest.rows.map((r) => text(r.payload))).toEqual(['2', '1']);
    expect(rest.next).toBeUndefined();
  });

  it('a page cut at 4 MB is shorter than the limit while next is set, and paging still sees every row', async () => {
    const name = tableName();
    await h.backend.ensureTable({ table: name, ttlSeconds: -1 });
    const id = timelineId();
    const payload = (n: number): Uint8Array => new Uint8Array(1_500_000).fill(n);
    for (let n = 0; n < 5; n++) await h.backend.append(name, [{ timelineId: id, payload: payload(n) }]);
    const first = await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 5000 });
    expect(first.rows.length).toBeLessThan(5);
    expect(first.next).toBeDefined();
    const store = new TimelineStore<Uint8Array>({ backend: h.backend, table: name, codec: { encode: (m) => m, decode: (b) => b } });
    expect((await collect(store.timeline(id).scan())).map((e) => e.message[0])).toEqual([0, 1, 2, 3, 4]);
  });

  it('empty and inverted ranges answer without a request', async () => {
    const { name, id, seqs } = await filled(2);
    const before = requests(h.emu, 'GetRange');
    expect(await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 10, from: seqs[1]!, to: seqs[1]! })).toEqual({ rows: [] });
    expect(await h.backend.scan(name, { timelineId: id, direction: 'backward', limit: 10, from: seqs[0]!, to: seqs[1]! })).toEqual({ rows: [] });
    expect(requests(h.emu, 'GetRange')).toBe(before);
  });

  it('get reads one row; absent seqs and other timelines are undefined', async () => {
    const { name, id, seqs } = await filled(2);
    const row = await h.backend.get(name, id, seqs[1]!);
    expect(row && { ...row, payload: text(row.payload) }).toEqual({ timelineId: id, seq: seqs[1], payload: '1' });
    expect(await h.backend.get(name, id, seqs[1]! + 1n)).toBeUndefined();
    expect(await h.backend.get(name, timelineId(), seqs[1]!)).toBeUndefined();
  });
});

describe('read retries and cancellation', () => {
  it('retries timeouts, 5xx and dropped connections on reads', async () => {
    const { name, id, seqs } = await filled(3);
    h.emu.faults.inject({ api: 'GetRange', code: 'OTSInternalServerError', times: 1 });
    h.emu.faults.inject({ api: 'GetRange', code: 'OTSTimeout', times: 1 });
    const before = requests(h.emu, 'GetRange');
    expect((await h.backend.scan(name, { timelineId: id, direction: 'forward', limit: 10 })).rows).toHaveLength(3);
    expect(requests(h.emu, 'GetRange') - before).toBe(3);
    h.emu.faults.inject({ api: 'GetRow', drop: 'before-apply', times: 1 });
    expect(text((await h.backend.get(name, id, seqs[0]!))!.payload)).toBe('0');
  });

  it('a read that times out on the client (requestTimeoutMs) is retried', async () => {
    const { name, id, seqs } = await filled(1);
    const seen: string[] = [];
    const backend = h.another({
      requestTimeoutMs: 500,
      retryStrategy: ({ attempt, error }) => {
        seen.push(error.backendCode ?? '');
        return attempt < 20 ? 1 : null;
      },
    });
    // Held until the client gives up on it: only the client's timeout ends the first attempt.
    h.emu.faults.inject({ api: 'GetRow', hold: 'until-disconnect', times: 1 });
    const before = requests(h.emu, 'GetRow');
    expect(text((await backend.get(name, id, seqs[0]!))!.payload)).toBe('0');
    expect(seen[0]).toBe('TimeoutError');
    expect(requests(h.emu, 'GetRow') - before).toBe(seen.length + 1);
  });

  it('a read that keeps failing stops at the budget, naming the option', async () => {
    const { name, id } = await filled(1);
    const backend = h.another({ retryStrategy: createRetryStrategy({ budgetMs: 40, baseDelayMs: 5, maxDelayMs: 10 }) });
    h.emu.faults.inject({ api: 'GetRange', code: 'OTSServerUnavailable' });
    const error = await backend.scan(name, { timelineId: id, direction: 'forward', limit: 10 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BACKEND', backendCode: 'OTSServerUnavailable', status: 503, retryable: true, operation: 'scan', timelineId: id });
    expect((error as Error).message).toMatch(/retry budget is exhausted.*retryStrategy/);
  });

  it('an AbortSignal abandons a slow read at once', async () => {
    const { name, id, seqs } = await filled(1);
    // Held until released: only abandoning the request can end the call.
    h.emu.faults.inject({ api: 'GetRow', hold: 'until-released', times: 1 });
    const controller = new AbortController();
    const call = h.backend.get(name, id, seqs[0]!, { signal: controller.signal }).catch((e: unknown) => e);
    await h.emu.faults.whenHeld(1, 5000);
    controller.abort();
    const error = await call;
    expect(error).toBeInstanceOf(AbortedError);
    expect(await h.emu.faults.release()).toBe(1);
    await expect(h.backend.get(name, id, seqs[0]!, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('seqs above 2^53', () => {
  it('stay exact through append, get, scan bounds and continuations', async () => {
    // A far-future clock makes the emulator's clock-like auto-increment values ~1.2e18 (> 2^53).
    const far = await harness({}, { clock: () => 1.2e15 });
    try {
      const name = tableName();
      await far.backend.ensureTable({ table: name, ttlSeconds: -1 });
      const id = timelineId();
      const results = await far.backend.append(name, ['a', 'b', 'c'].map((t) => ({ timelineId: id, payload: bytes(t) })));
      const seqs = results.map((r) => (r.ok ? r.seq : -1n));
      expect(seqs.every((s) => s > 2n ** 53n)).toBe(true);
      // Neighbouring values that a double could not tell apart.
      expect(Number(seqs[0]! + 1n)).toBe(Number(seqs[0]!));
      expect((await far.backend.get(name, id, seqs[1]!))?.seq).toBe(seqs[1]);
      expect(await far.backend.get(name, id, seqs[1]! + 1n)).toBeUndefined();
      const from = await far.backend.scan(name, { timelineId: id, direction: 'forward', limit: 1, from: seqs[0]! + 1n });
      expect(from.rows.map((r) => r.seq)).toEqual([seqs[1]]);
      expect(from.next).toBe(seqs[2]);
      const backward = await far.backend.scan(name, { timelineId: id, direction: 'backward', limit: 10, from: seqs[2]! - 1n });
      expect(backward.rows.map((r) => r.seq)).toEqual([seqs[1], seqs[0]]);
    } finally {
      await far.close();
    }
  });
});
