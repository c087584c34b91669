// Issue 11's core items: ids that UTF-8 cannot carry, TTLs changed only when asked, error messages
// that cannot themselves throw, seqs from callbacks, and a memory backend whose heap stays bounded.
import { describe, expect, it } from 'vitest';
import {
  MemoryBackend,
  StoreTimeline,
  SyncTimeline,
  TableIncompatibleError,
  TimelineStore,
  ValidationError,
  bigintReplacer,
  checkSeq,
  fanOut,
  parseSeq,
} from '../../src/index.js';

const DAY_MS = 86_400_000;

async function rejection(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('ids must be well-formed UTF-16', () => {
  const ill = ['user\uD800', '\uDC00', 'a\uDBFFb', 'x\uDFFF\uD800'];

  it('rejects a lone surrogate in every id parameter, naming it, and writes nothing', async () => {
    const backend = new MemoryBackend();
    const store = new TimelineStore<{ text: string }>({ backend, table: 't' });
    const inbox = new SyncTimeline(new TimelineStore<{ text: string }>({ backend, table: 'inbox', ttlSeconds: 86_400 }));
    const history = new StoreTimeline(store);
    for (const id of ill) {
      const cases: [string, () => unknown][] = [
        ['timelineId', () => store.timeline(id)],
        ['items[0].timelineId', () => store.appendBatch([{ timelineId: id, message: { text: 'x' } }])],
        ['items[0].messageId', () => store.appendBatch([{ timelineId: 'ok', message: { text: 'x' }, messageId: id }])],
        ['options.messageId', () => store.timeline('ok').append({ text: 'x' }, { messageId: id })],
        ['options.messageIds[0]', () => store.timeline('ok').appendMany([{ text: 'x' }], { messageIds: [id] })],
        ['conversationId', () => history.append(id, { text: 'x' })],
        ['receiverId', () => inbox.push(id, { text: 'x' })],
        ['receiverId', () => inbox.sync(id)],
        ['receiverIds[1]', () => fanOut(inbox, ['ok', id], { text: 'x' })],
      ];
      for (const [parameter, call] of cases) {
        const error = await rejection(call);
        expect(error, `${parameter} ${JSON.stringify(id)}`).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).parameter).toBe(parameter);
        expect((error as ValidationError).message).toMatch(/well-formed UTF-16.*lone surrogate/);
      }
    }
    expect(backend.size('t') + backend.size('inbox')).toBe(0);
  });

  it('accepts surrogate pairs and keeps the lone-surrogate id apart from its U+FFFD look-alike', async () => {
    const store = new TimelineStore<number>({ backend: new MemoryBackend(), table: 't' });
    await store.timeline('user👍').append(1, { messageId: 'm👍' });
    await store.timeline('user\uFFFD').append(2);
    expect((await store.timeline('user👍').latest())?.message).toBe(1);
    expect((await store.timeline('user\uFFFD').latest())?.message).toBe(2);
  });
});

describe('onTtlMismatch defaults to error', () => {
  it('init of a store with another TTL rejects, stating both TTLs and the option, and leaves the table alone', async () => {
    const backend = new MemoryBackend();
    await new TimelineStore({ backend, table: 'im_store' }).init();
    const error = await rejection(() => new TimelineStore({ backend, table: 'im_store', ttlSeconds: 86_400 }).init());
    expect(error).toBeInstanceOf(TableIncompatibleError);
    expect((error as Error).message).toMatch(/TTL of -1 .*86400.*onTtlMismatch: 'update'/);
    expect((await new TimelineStore({ backend, table: 'im_store' }).init()).ttlSeconds).toBe(-1);
  });

  it('lazy init of a store without ttlSeconds never makes a 7-day table keep entries forever', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now });
    const week = 7 * 86_400;
    const sync = new TimelineStore<string>({ backend, table: 'im_sync', ttlSeconds: week });
    await sync.timeline('bob').append('old');
    const careless = new TimelineStore<string>({ backend, table: 'im_sync' });
    await expect(careless.timeline('bob').append('x')).rejects.toBeInstanceOf(TableIncompatibleError);
    now += week * 1000 + 1;
    expect(await sync.timeline('bob').latest()).toBeUndefined();
  });

  it("changes the TTL only with onTtlMismatch: 'update'", async () => {
    const backend = new MemoryBackend();
    await new TimelineStore({ backend, table: 't', ttlSeconds: 86_400 }).init();
    const updated = await new TimelineStore({ backend, table: 't', onTtlMismatch: 'update' }).init();
    expect(updated).toMatchObject({ ttlUpdated: true, ttlSeconds: -1 });
    await expect(backend.ensureTable({ table: 't', ttlSeconds: 86_400 })).rejects.toBeInstanceOf(TableIncompatibleError);
  });
});

describe('error messages are total', () => {
  it('describes null-prototype objects, symbols and revoked proxies instead of throwing', async () => {
    const store = new TimelineStore({ backend: new MemoryBackend(), table: 't' });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const direction of [Object.create(null), Symbol('s'), proxy, [Object.create(null)]]) {
      const error = await rejection(() => store.timeline('a').scan({ direction }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).parameter).toBe('options.direction');
    }
    const bare = Object.create(null) as object;
    const error = await rejection(() => new TimelineStore({ backend: new MemoryBackend(), table: 't', onTtlMismatch: bare as never }));
    expect((error as ValidationError).parameter).toBe('options.onTtlMismatch');
  });

  it('wraps a codec that throws a null-prototype object in a CODEC ValidationError', async () => {
    const codec = {
      encode: () => {
        throw Object.create(null);
      },
      decode: () => 1,
    };
    const store = new TimelineStore({ backend: new MemoryBackend(), table: 't', codec });
    const error = await rejection(() => store.timeline('a').append(1));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('CODEC');
  });
});

describe('seqs from user callbacks and over HTTP', () => {
  it('checkSeq turns out-of-range bigints into a ValidationError naming the parameter', () => {
    expect(checkSeq(5n, 'from')).toBe(5n);
    for (const bad of [2n ** 64n, 2n ** 63n, -1n, 5, '5', null]) {
      expect(() => checkSeq(bad, 'largeGroupsOf(bob)[0].from')).toThrow(ValidationError);
    }
  });

  it('bigintReplacer and parseSeq carry seqs through JSON exactly', () => {
    const entry = { timelineId: 'bob', seq: 2n ** 63n - 1n, message: { text: 'hi' } };
    const text = JSON.stringify({ entries: [entry], cursor: 'abc' }, bigintReplacer);
    expect(text).toBe('{"entries":[{"timelineId":"bob","seq":"9223372036854775807","message":{"text":"hi"}}],"cursor":"abc"}');
    expect(parseSeq((JSON.parse(text) as { entries: { seq: string }[] }).entries[0]!.seq)).toBe(entry.seq);
    expect(parseSeq(undefined)).toBeUndefined();
    for (const bad of ['9223372036854775808', '-1', '01', '1.5', ' 1', '', 42, null]) {
      expect(() => parseSeq(bad, 'before')).toThrow(ValidationError);
    }
  });
});

describe('MemoryBackend TTL sweep', () => {
  it('drops timelines whose entries all expired, so one-off ids (5,000 a day) leave no trace', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now });
    const store = new TimelineStore<number>({ backend, table: 'inbox', ttlSeconds: 86_400 });
    for (let day = 0; day < 3; day++) {
      await store.appendBatch(Array.from({ length: 5_000 }, (_, i) => ({ timelineId: `d${day}-u${i}`, message: i })));
      now += DAY_MS + 1;
    }
    await store.timeline('live').append(1); // an append sweeps the table
    expect(backend.timelineCount('inbox')).toBe(1);
    expect(backend.size('inbox')).toBe(1);
  });

  it('never lets a reused id go back in seq after its timeline was dropped', async () => {
    let now = 0;
    const backend = new MemoryBackend({ now: () => now });
    const store = new TimelineStore<number>({ backend, table: 'inbox', ttlSeconds: 86_400 });
    const before = await store.timeline('bob').appendMany([1, 2, 3]);
    now += 2 * DAY_MS;
    await store.timeline('alice').append(1); // sweeps: bob's timeline is dropped
    expect(backend.timelineCount('inbox')).toBe(1);
    const after = await store.timeline('bob').append(4);
    expect(after.seq).toBeGreaterThan(before[2]!.seq);
  });
});
