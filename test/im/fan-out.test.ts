import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, resolveCapabilities, SyncTimeline, fanOut, retryFanOut, type FanOutResult } from '../../src/index.js';
import { backendFactories, type TestBackend } from './backends.js';
import { all, expectInvalid, SECRET, stores, type Chat } from './fixtures.js';
import { FaultyBackend } from './wrappers.js';

describe.each(backendFactories)('fanOut on $name', (factory) => {
  let t: TestBackend;
  beforeAll(async () => {
    t = await factory.create();
  });
  afterAll(async () => {
    await t.close();
  });

  function setup(): { inbox: SyncTimeline<Chat>; faulty: FaultyBackend } {
    const faulty = new FaultyBackend(t.backend);
    const inbox = new SyncTimeline(stores<Chat, Chat>(t, faulty).inbox, { cursorSecret: SECRET, now: t.now });
    return { inbox, faulty };
  }

  const ids = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  async function countIn(inbox: SyncTimeline<Chat>, receiverId: string, messageId: string): Promise<number> {
    return (await all(inbox.store, receiverId)).filter((e) => e.messageId === messageId).length;
  }

  it('writes each distinct receiver once, in batches of the backend size, with bounded concurrency', async () => {
    const { inbox, faulty } = setup();
    await inbox.store.init();
    const receivers = ids(1000);
    const result = await fanOut(inbox, [...receivers, 'u3', 'u999', 'u3'], { text: 'hello' }, { messageId: 'm1', concurrency: 2 });
    expect(result.failed).toEqual([]);
    expect(result.messageId).toBe('m1');
    expect(result.delivered.map((d) => d.receiverId)).toEqual(receivers);
    const maxRows = resolveCapabilities(t.backend).maxBatchRows;
    expect(faulty.appendCalls).toHaveLength(Math.ceil(1000 / maxRows));
    expect(faulty.appendCalls.every((rows) => rows <= maxRows)).toBe(true);
    expect(faulty.maxInFlight).toBeLessThanOrEqual(2);
    for (const { receiverId, seq } of result.delivered.slice(0, 20)) {
      const entry = await inbox.store.timeline(receiverId).get(seq);
      expect(entry).toMatchObject({ message: { text: 'hello' }, messageId: 'm1' });
    }
    expect(await countIn(inbox, 'u3', 'm1')).toBe(1);
  });

  it('uses at most `concurrency` requests in flight (default 16)', async () => {
    const { inbox, faulty } = setup();
    await inbox.store.init();
    const n = resolveCapabilities(t.backend).maxBatchRows * 20;
    const result = await fanOut(inbox, ids(n), { text: 'x' });
    expect(result.failed).toEqual([]);
    expect(faulty.maxInFlight).toBeGreaterThan(1);
    expect(faulty.maxInFlight).toBeLessThanOrEqual(16);
  });

  it('reports per-receiver failures without throwing, and a retry re-sends only to the failed ones', async () => {
    const { inbox, faulty } = setup();
    const receivers = ids(450);
    const failing = new Set(['u0', 'u17', 'u200', 'u449']);
    faulty.fault = (row) => (failing.has(row.timelineId) ? 'fail' : undefined);
    const first = await fanOut(inbox, receivers, { text: 'hi' }, { messageId: 'm-retry' });
    expect(first.failed.map((f) => f.receiverId)).toEqual(['u0', 'u17', 'u200', 'u449']);
    expect(first.failed.every((f) => f.error.code === 'BACKEND' && f.error.retryable)).toBe(true);
    expect(first.delivered).toHaveLength(446);

    faulty.fault = () => undefined;
    faulty.appendCalls.length = 0;
    const second = await retryFanOut(inbox, first, { text: 'hi' });
    expect(second.failed).toEqual([]);
    expect(faulty.appendCalls.reduce((a, b) => a + b, 0)).toBe(4); // only the failed ones
    expect(new Set(second.delivered.map((d) => d.receiverId))).toEqual(new Set(receivers));
    for (const id of ['u0', 'u1', 'u200', 'u449']) expect(await countIn(inbox, id, 'm-retry')).toBe(1);
  });

  it('does not duplicate on retry when a failed write was in fact applied', async () => {
    const { inbox, faulty } = setup();
    faulty.fault = (row) => (row.timelineId === 'u1' || row.timelineId === 'u2' ? 'ambiguous' : row.timelineId === 'u3' ? 'fail' : undefined);
    const first = await fanOut(inbox, ids(5), { text: 'hi' }, { messageId: 'amb' });
    expect(first.failed.map((f) => [f.receiverId, f.error.code])).toEqual([
      ['u1', 'WRITE_UNCERTAIN'],
      ['u2', 'WRITE_UNCERTAIN'],
      ['u3', 'BACKEND'],
    ]);
    faulty.fault = () => undefined;
    faulty.appendCalls.length = 0;
    const second = await retryFanOut(inbox, first, { text: 'hi' });
    expect(second.failed).toEqual([]);
    expect(faulty.appendCalls.reduce((a, b) => a + b, 0)).toBe(1); // u3 only
    for (const id of ids(5)) expect(await countIn(inbox, id, 'amb')).toBe(1);
    const u1 = second.delivered.find((d) => d.receiverId === 'u1')!;
    expect((await inbox.store.timeline('u1').get(u1.seq))?.messageId).toBe('amb');
  });

  it('keeps a receiver failed, unwritten, when its tail cannot be checked', async () => {
    const { inbox, faulty } = setup();
    faulty.fault = (row) => (row.timelineId === 'u1' ? 'ambiguous' : undefined);
    const first = await fanOut(inbox, ids(3), { text: 'hi' }, { messageId: 'scan' });
    faulty.fault = () => undefined;
    faulty.failScan = (_table, id) => id === 'u1';
    const second = await retryFanOut(inbox, first, { text: 'hi' });
    expect(second.failed.map((f) => f.receiverId)).toEqual(['u1']);
    expect(second.delivered.map((d) => d.receiverId)).toEqual(['u0', 'u2']);
    faulty.failScan = () => false;
    const third = await retryFanOut(inbox, second, { text: 'hi' });
    expect(third.failed).toEqual([]);
    expect(await countIn(inbox, 'u1', 'scan')).toBe(1);
  });

  it('reports a failed request as a failure of each of its receivers', async () => {
    const { inbox, faulty } = setup();
    const maxRows = resolveCapabilities(t.backend).maxBatchRows;
    const n = Math.min(maxRows * 2, 2000);
    let calls = 0;
    faulty.failCall = () => ++calls === 1;
    const result = await fanOut(inbox, ids(n), { text: 'x' }, { messageId: 'req', concurrency: 1 });
    expect(result.failed.length).toBe(Math.min(maxRows, n));
    expect(result.delivered.length + result.failed.length).toBe(n);
  });

  it('skips receivers that already hold the message with `skipExisting`', async () => {
    const { inbox, faulty } = setup();
    await inbox.push('u1', { text: 'hi' }, { messageId: 'dup' });
    await inbox.push('u1', { text: 'later' });
    faulty.appendCalls.length = 0;
    const result = await fanOut(inbox, ids(3), { text: 'hi' }, { messageId: 'dup', skipExisting: true });
    expect(result.delivered.map((d) => d.receiverId)).toEqual(['u0', 'u1', 'u2']);
    expect(faulty.appendCalls.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await countIn(inbox, 'u1', 'dup')).toBe(1);
  });

  it('fails every receiver with AbortedError when aborted, without throwing or writing', async () => {
    const { inbox } = setup();
    const controller = new AbortController();
    controller.abort();
    const result = await fanOut(inbox, ids(3), { text: 'x' }, { messageId: 'ab', signal: controller.signal });
    expect(result.delivered).toEqual([]);
    expect(result.failed.map((f) => f.error)).toEqual([expect.any(AbortedError), expect.any(AbortedError), expect.any(AbortedError)]);
    expect(await all(inbox.store, 'u0')).toEqual([]);
  });

  it('handles no receivers', async () => {
    const { inbox, faulty } = setup();
    expect(await fanOut(inbox, [], { text: 'x' })).toEqual({ messageId: undefined, delivered: [], failed: [] });
    expect(faulty.appendCalls).toEqual([]);
  });

  it('rejects bad input with a named parameter and writes nothing', async () => {
    const { inbox, faulty } = setup();
    const msg = { text: 'x' };
    await expectInvalid(() => fanOut({} as SyncTimeline<Chat>, ['a'], msg), 'inbox');
    await expectInvalid(() => fanOut(inbox, 'a' as unknown as string[], msg), 'receiverIds');
    await expectInvalid(() => fanOut(inbox, ['a', ''], msg), 'receiverIds[1]');
    await expectInvalid(() => fanOut(inbox, ['a', 7 as unknown as string], msg), 'receiverIds[1]');
    await expectInvalid(() => fanOut(inbox, ['a', 'b'], { text: () => 1 } as unknown as Chat), 'message');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, { concurrency: 0 }), 'options.concurrency');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, { messageId: '' }), 'options.messageId');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, { skipExisting: true }), 'options.skipExisting');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, { messageId: 'm', skipExisting: 'yes' as unknown as boolean }), 'options.skipExisting');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, { messageId: 'm', dedupeWindow: 0 }), 'options.dedupeWindow');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, { signal: 1 as unknown as AbortSignal }), 'options.signal');
    await expectInvalid(() => fanOut(inbox, ['a'], msg, null as never), 'options');
    const noId: FanOutResult = { messageId: undefined, delivered: [], failed: [] };
    await expectInvalid(() => retryFanOut(inbox, noId, msg), 'previous.messageId');
    await expectInvalid(() => retryFanOut(inbox, null as unknown as FanOutResult, msg), 'previous');
    const bad = { messageId: 'm', delivered: [], failed: [{ receiverId: '', error: undefined }] } as unknown as FanOutResult;
    await expectInvalid(() => retryFanOut(inbox, bad, msg), 'previous.failed[0].receiverId');
    const withId: FanOutResult = { messageId: 'm', delivered: [], failed: [] };
    await expectInvalid(() => retryFanOut(inbox, withId, msg, { concurrency: 0 }), 'options.concurrency');
    await expectInvalid(() => retryFanOut(inbox, withId, msg, { messageId: 'other' } as never), 'options.messageId');
    await expectInvalid(() => retryFanOut({} as SyncTimeline<Chat>, withId, msg), 'inbox');
    expect(faulty.appendCalls).toEqual([]);
    expect(await all(inbox.store, 'a')).toEqual([]);
  });
});
