// The requests conversations add, counted at the backend interface (one call = one request on
// TableStore, whose batch limits the memory backend mimics here: 200 rows per write batch).
import { describe, expect, it } from 'vitest';
import { MemoryBackend, TimelineError, type TimelineBackend } from '../../src/index.js';
import type { RecordBackend } from '../../src/core/records.js';
import { PassThroughBackend } from '../../src/testing/index.js';
import type { TestBackend } from './backends.js';
import { messenger } from './fixtures.js';

class CountingBackend extends PassThroughBackend {
  count = 0;
  readonly #records: RecordBackend | undefined;
  constructor(inner: TimelineBackend) {
    super(inner);
    const records = inner.records!;
    const counted = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A) => {
      this.count++;
      return fn(...args);
    };
    this.#records = {
      recordLimits: records.recordLimits,
      ensureRecordTable: (...a) => records.ensureRecordTable(...a),
      writeRecords: counted((...a: Parameters<RecordBackend['writeRecords']>) => records.writeRecords(...a)),
      getRecord: counted((...a: Parameters<RecordBackend['getRecord']>) => records.getRecord(...a)),
      scanRecords: counted((...a: Parameters<RecordBackend['scanRecords']>) => records.scanRecords(...a)),
    };
  }
  override get records() {
    return this.#records;
  }
  override append(...a: Parameters<TimelineBackend['append']>) {
    this.count++;
    return super.append(...a);
  }
  override get(...a: Parameters<TimelineBackend['get']>) {
    this.count++;
    return super.get(...a);
  }
  override scan(...a: Parameters<TimelineBackend['scan']>) {
    this.count++;
    return super.scan(...a);
  }
}

function harness(): TestBackend & { counting: CountingBackend } {
  let time = Date.UTC(2025, 0, 1);
  const now = () => time;
  const counting = new CountingBackend(new MemoryBackend({ now, maxBatchRows: 200, maxScanPageRows: 5000 }));
  return { backend: counting, counting, now, advance: (ms) => (time += ms), close: () => counting.close() };
}

// Requests of one send to N recipients (after a warm-up send that creates tables), and of one
// conversations() call by a recipient, with and without conversations.
async function measure(n: number, threshold: number, conversations: boolean) {
  const t = harness();
  const recipients = Array.from({ length: n }, (_, i) => `r${i}`);
  const { messenger: m } = messenger(t, {
    largeGroupThreshold: threshold,
    largeGroupsOf: (u) => (n + 1 > threshold && (u === 'r0' || u === 'sender') ? ['conv'] : []),
    recentSends: 0,
    ...(conversations ? { conversations: {} } : {}),
  });
  await m.init();
  await m.send({ conversationId: 'conv', senderId: 'sender', recipients, message: { text: 'warm-up' }, messageId: 'w' });
  t.advance(1000);
  const before = t.counting.count;
  await m.send({ conversationId: 'conv', senderId: 'sender', recipients, message: { text: 'measured' }, messageId: 'm' });
  const send = t.counting.count - before;
  let list: number | undefined;
  let read: number | undefined;
  if (conversations) {
    const start = t.counting.count;
    const page = await m.conversations('r0');
    expect(page.items).toMatchObject([{ conversationId: 'conv', unread: 2 }]);
    list = t.counting.count - start;
    const readStart = t.counting.count;
    const marked = await m.markRead({ userId: 'r0', conversationId: 'conv', seq: page.items[0]!.lastMessage!.seq });
    expect(marked.advanced).toBe(true);
    read = t.counting.count - readStart;
  }
  await t.close();
  return { send, list, read };
}

describe('conversation costs (requests)', () => {
  // Write diffusion costs 1 + ⌈(N+1)/200⌉ requests (store + inbox batches, the sender's inbox
  // included) plus the journal's; conversations add ⌈(N+1)/200⌉ list-row batches: the same number of
  // rows again, never a request per recipient. Read diffusion adds nothing per send.
  it.each([
    { n: 2, threshold: 500, extraSend: 1, mode: 'write' },
    { n: 100, threshold: 500, extraSend: 1, mode: 'write' },
    { n: 2000, threshold: 500, extraSend: 0, mode: 'read' },
    { n: 2000, threshold: Number.POSITIVE_INFINITY, extraSend: 11, mode: 'write' },
  ])('N = $n, threshold $threshold ($mode diffusion): +$extraSend per send; conversations() = 2 requests; markRead = 4', async ({ n, threshold, extraSend }) => {
    const off = await measure(n, threshold, false);
    const on = await measure(n, threshold, true);
    expect(on.send - off.send).toBe(extraSend);
    // One scan of the user's rows and one tail read of the conversation (which gives the order
    // of a large group, its last message and its unread count at once).
    expect(on.list).toBe(2);
    // The list row and the newest entry (read in parallel), the position write, the read event.
    expect(on.read).toBe(4);
  }, 60_000);
});

describe('a failed list-row write', () => {
  it('does not fail the send; the next message puts the conversation in place, and counts stay right', async () => {
    const t = harness();
    const records = t.counting.inner.records!;
    let failing = true;
    // The conversations table's writes fail while `failing`; everything else passes through.
    Object.defineProperty(t.counting, 'records', {
      get: (): RecordBackend => ({
        ...records,
        recordLimits: records.recordLimits,
        ensureRecordTable: (...a) => records.ensureRecordTable(...a),
        getRecord: (...a) => records.getRecord(...a),
        scanRecords: (...a) => records.scanRecords(...a),
        writeRecords: async (table, writes, options) =>
          failing && table.endsWith('_conv') ? writes.map(() => ({ ok: false as const, conflict: false as const, error: new TimelineError('BACKEND', 'injected', { retryable: true }) })) : records.writeRecords(table, writes, options),
      }),
    });
    const { messenger: m } = messenger(t, { conversations: {} });
    const sent = await m.send({ conversationId: 'dm', senderId: 'a', recipients: ['b'], message: { text: 'one' }, messageId: 'one' });
    expect(sent.fanOut.failed).toEqual([]);
    expect((await m.conversations('b')).items).toEqual([]);
    failing = false;
    t.advance(1000);
    await m.send({ conversationId: 'dm', senderId: 'a', recipients: ['b'], message: { text: 'two' }, messageId: 'two' });
    expect((await m.conversations('b')).items).toMatchObject([{ conversationId: 'dm', unread: 2, lastMessage: { message: { text: 'two' } } }]);
    await t.close();
  });
});
