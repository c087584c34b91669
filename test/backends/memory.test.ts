import { describe, expect, it } from 'vitest';
import { MemoryBackend, TimelineStore } from '../../src/index.js';

const DAY = 86_400_000;

describe('MemoryBackend specifics', () => {
  it('reclaims expired entries so a TTL table does not grow without bound, even for timelines nobody reads', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now });
    const store = new TimelineStore<{ i: number }>({ backend, table: 'inbox', ttlSeconds: 86_400 });
    // 30 simulated days, 2,000 writes a day spread over 500 receivers that never read.
    for (let day = 0; day < 30; day++) {
      for (let i = 0; i < 2000; i++) {
        now = day * DAY + i * 40_000;
        await store.appendBatch([{ timelineId: `user:${i % 500}`, message: { i } }]);
      }
      // Never more than about a TTL and a sweep interval of entries.
      expect(backend.retained('inbox')).toBeLessThanOrEqual(2000 * 1.1 + 2000);
    }
    expect(backend.size('inbox')).toBeLessThanOrEqual(2000);
    expect(backend.size('inbox')).toBeGreaterThan(1000);
  });

  it('a page copies only the page: scanning the tail of a large timeline touches few rows', async () => {
    const backend = new MemoryBackend();
    const store = new TimelineStore<number>({ backend, table: 't' });
    const tl = store.timeline('big');
    const entries = await tl.appendMany(Array.from({ length: 50_000 }, (_, i) => i));
    const page = await backend.scan('t', { timelineId: 'big', direction: 'forward', from: entries[49_990]!.seq, limit: 5000 });
    expect(page.rows).toHaveLength(10);
    expect(page.next).toBeUndefined();
    const back = await backend.scan('t', { timelineId: 'big', direction: 'backward', limit: 3 });
    expect(back.rows.map((r) => r.seq)).toEqual([50_000n, 49_999n, 49_998n]);
    expect(back.next).toBe(49_997n);
  });

  it('stores a copy of the payload, not the caller buffer', async () => {
    const backend = new MemoryBackend();
    await backend.ensureTable({ table: 't', ttlSeconds: -1 });
    const payload = new Uint8Array([1, 2, 3]);
    const [result] = await backend.append('t', [{ timelineId: 'a', payload }]);
    payload[0] = 9;
    const row = await backend.get('t', 'a', (result as { seq: bigint }).seq);
    expect([...row!.payload]).toEqual([1, 2, 3]);
  });

  it('refuses a batch over its declared row limit and a missing table', async () => {
    const backend = new MemoryBackend({ maxBatchRows: 2 });
    await expect(backend.append('nope', [])).rejects.toMatchObject({ code: 'BACKEND', backendCode: 'TableNotFound' });
    await backend.ensureTable({ table: 't', ttlSeconds: -1 });
    const row = { timelineId: 'a', payload: new Uint8Array() };
    await expect(backend.append('t', [row, row, row])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a clock that steps back does not reorder expiry', async () => {
    let now = 10 * DAY;
    const backend = new MemoryBackend({ now: () => now });
    const store = new TimelineStore<number>({ backend, table: 't', ttlSeconds: 86_400 });
    const tl = store.timeline('a');
    await tl.append(1);
    now -= DAY / 2;
    await tl.append(2);
    now = 11 * DAY + 1;
    const left: number[] = [];
    for await (const e of tl.scan()) left.push(e.message);
    expect(left).toEqual([]);
  });
});

describe('MemoryBackend shared payloads', () => {
  it('rows of one append that share a payload object stay independent copies', async () => {
    const backend = new MemoryBackend();
    await backend.ensureTable({ table: 't', ttlSeconds: -1 });
    const payload = new Uint8Array([1, 2, 3]);
    const results = await backend.append('t', ['a', 'b', 'c'].map((timelineId) => ({ timelineId, payload })));
    payload.fill(0);
    const seqs = results.map((r) => (r.ok ? r.seq : -1n));
    const a = await backend.get('t', 'a', seqs[0]!);
    a!.payload.fill(9);
    for (const [i, id] of ['a', 'b', 'c'].entries()) expect([...(await backend.get('t', id, seqs[i]!))!.payload]).toEqual([1, 2, 3]);
  });
});
