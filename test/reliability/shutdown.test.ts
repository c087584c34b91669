// Shutdown: on close() of a backend or a store, calls in flight complete or reject clearly (a
// ClosedError, or a WriteUncertainError for a write whose outcome is unknown), never hang; every
// later call rejects with a ClosedError; what a call reported written exists exactly once and
// what it reported not written does not exist; and a process that closes what it opened exits by
// itself, with no open handles (a child process, no process.exit).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError, MemoryBackend, TimelineError, TimelineStore, WriteUncertainError, type RowOutcome, type TimelineEntry } from '../../src/index.js';
import { buildMessenger, rawRows, tableStoreRig, uniqueTable, writeRequests, type TableStoreRig } from './harness.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the promise's outcome, or rejects if it has not settled within `ms`: a hang. */
async function settlesWithin<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

let rig: TableStoreRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('TableStoreBackend.close()', () => {
  it('lets writes in flight finish, rejects the rest with ClosedError, and every later call too', async () => {
    rig = await tableStoreRig(6001);
    const { backend, emu } = rig;
    const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
    await store.init();
    emu.faults.inject({ api: ['PutRow', 'BatchWriteRow'], latencyMs: 200 });
    const calls = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? store.timeline(`t${i}`).append(i, { messageId: `m${i}` }).then(
            (entry): RowOutcome<TimelineEntry<number>> => ({ ok: true, entry }),
            (error: TimelineError): RowOutcome<TimelineEntry<number>> => ({ ok: false, error }),
          )
        : store.appendBatch([0, 1, 2].map((j) => ({ timelineId: `t${i}-${j}`, message: i * 10 + j, messageId: `m${i}-${j}` }))).then((o) => o[0]!),
    );
    await sleep(50);
    const started = performance.now();
    await settlesWithin(backend.close(), 2000, 'close()');
    const closeMs = performance.now() - started;
    const outcomes = await settlesWithin(Promise.all(calls), 2000, 'the calls in flight');
    // close() waited for the requests in flight (200 ms of latency), no longer.
    expect(closeMs).toBeGreaterThan(100);
    expect(closeMs).toBeLessThan(1000);
    // They were sent before close(): they finish and succeed.
    expect(outcomes.every((o) => o.ok)).toBe(true);
    emu.faults.clear();
    const stored = await rawRows(emu, store.table);
    expect(stored).toHaveLength(6 + 6 * 3);
    expect(new Set(stored.map((r) => r.messageId)).size).toBe(stored.length);
    // Every later call: ClosedError, nothing sent.
    const requests = JSON.stringify(emu.stats().requests);
    for (const call of [
      () => store.timeline('t0').append(1),
      () => store.appendBatch([{ timelineId: 'x', message: 1 }]),
      () => store.timeline('t0').get(1n),
      () => store.timeline('t0').latest(),
      () => backend.ensureTable({ table: store.table, ttlSeconds: -1 }),
      () => backend.scan(store.table, { timelineId: 't0', direction: 'forward', limit: 1 }),
    ]) {
      const result = await call().then(
        (value) => (Array.isArray(value) ? (value[0] as RowOutcome<unknown>) : { ok: true as const, entry: value }),
        (error: unknown) => ({ ok: false as const, error: error as TimelineError }),
      );
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error).toBeInstanceOf(ClosedError);
    }
    expect(JSON.stringify(emu.stats().requests)).toBe(requests);
    await backend.close(); // idempotent
  });

  it('stops a write waiting to retry at once: ClosedError, nothing written', async () => {
    rig = await tableStoreRig(6002, { budgetMs: 30_000, baseDelayMs: 100, maxDelayMs: 200 });
    const { backend, emu } = rig;
    const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
    await store.init();
    emu.faults.inject({ api: ['PutRow', 'BatchWriteRow'], code: 'OTSServerBusy' });
    const single = store.timeline('a').append(1).catch((e: unknown) => e);
    const batch = store.appendBatch([1, 2, 3].map((n) => ({ timelineId: `b${n}`, message: n })));
    await sleep(120);
    const started = performance.now();
    await settlesWithin(backend.close(), 1000, 'close()');
    expect(performance.now() - started).toBeLessThan(300);
    expect(await settlesWithin(single, 1000, 'append')).toBeInstanceOf(ClosedError);
    const outcomes = await settlesWithin(batch, 1000, 'appendBatch');
    for (const o of outcomes) expect(!o.ok && o.error).toBeInstanceOf(ClosedError);
    emu.faults.clear();
    expect(await rawRows(emu, store.table)).toEqual([]);
  });

  it('settles a write in doubt as WriteUncertainError (or ClosedError), never hangs, never guesses', async () => {
    rig = await tableStoreRig(6003, { budgetMs: 30_000, baseDelayMs: 100, maxDelayMs: 200 });
    const { backend, emu } = rig;
    const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
    await store.init();
    emu.faults.inject({ api: ['PutRow', 'BatchWriteRow'], drop: 'before-apply' });
    const single = store.timeline('a').append(1, { messageId: 'a1' }).catch((e: unknown) => e);
    const batch = store.appendBatch([1, 2].map((n) => ({ timelineId: `b${n}`, message: n, messageId: `b${n}` })));
    await sleep(120);
    await settlesWithin(backend.close(), 1000, 'close()');
    const errors = [await settlesWithin(single, 1000, 'append'), ...(await settlesWithin(batch, 1000, 'appendBatch')).map((o) => (o.ok ? o : o.error))];
    for (const e of errors) {
      expect(e instanceof WriteUncertainError || e instanceof ClosedError).toBe(true);
      expect((e as TimelineError).retryable || e instanceof ClosedError).toBe(true);
    }
    expect(errors.some((e) => e instanceof WriteUncertainError)).toBe(true);
    emu.faults.clear();
    // Dropped before apply: nothing exists.
    expect(await rawRows(emu, store.table)).toEqual([]);
  });
});

describe('TimelineStore.close()', () => {
  it('lets the request in flight finish; requests not yet sent fail with ClosedError and are not written', async () => {
    rig = await tableStoreRig(6004);
    const { backend, emu } = rig;
    const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
    await store.init();
    emu.faults.inject({ api: 'BatchWriteRow', latencyMs: 150 });
    // 600 rows: 3 BatchWriteRow requests of 200, one at a time.
    const batch = store.appendBatch(
      Array.from({ length: 600 }, (_, i) => ({ timelineId: `t${i}`, message: i, messageId: `m${i}` })),
      { concurrency: 1 },
    );
    await sleep(50);
    await store.close();
    const outcomes = await settlesWithin(batch, 2000, 'appendBatch');
    const written = outcomes.filter((o) => o.ok);
    expect(written).toHaveLength(200);
    for (const o of outcomes.slice(200)) expect(!o.ok && o.error).toBeInstanceOf(ClosedError);
    emu.faults.clear();
    const stored = await rawRows(emu, store.table);
    expect(stored.map((r) => r.messageId).sort()).toEqual(written.map((o) => (o.ok ? o.entry.messageId : '')).sort());
    // The store is closed, its backend is not: another store on it still works.
    await expect(store.init()).rejects.toBeInstanceOf(ClosedError);
    await expect(store.timeline('t0').append(1)).rejects.toBeInstanceOf(ClosedError);
    const other = new TimelineStore<number>({ backend, table: store.table });
    expect((await other.timeline('t0').append(1)).seq).toBeGreaterThan(0n);
  });

  it('a Messenger over closed stores rejects every call with ClosedError and writes nothing', async () => {
    rig = await tableStoreRig(6005);
    const { messenger, history, inbox } = buildMessenger(rig.backend);
    await Promise.all([history.init(), inbox.init()]);
    await messenger.send({ conversationId: 'c', senderId: 'a', recipients: ['b'], message: { k: 0, text: 'x' }, messageId: 'm0' });
    await Promise.all([history.close(), inbox.close()]);
    const writes = writeRequests(rig.emu);
    await expect(messenger.send({ conversationId: 'c', senderId: 'a', recipients: ['b'], message: { k: 1, text: 'y' }, messageId: 'm1' })).rejects.toBeInstanceOf(ClosedError);
    await expect(messenger.sync('b')).rejects.toBeInstanceOf(ClosedError);
    await expect(messenger.history('c')).rejects.toBeInstanceOf(ClosedError);
    expect(writeRequests(rig.emu)).toBe(writes);
  });

  it('MemoryBackend: every call after close() rejects with ClosedError; close() is idempotent', async () => {
    const backend = new MemoryBackend();
    const store = new TimelineStore<number>({ backend, table: 't' });
    await store.timeline('a').append(1);
    await backend.close();
    await backend.close();
    await expect(store.timeline('a').append(2)).rejects.toBeInstanceOf(ClosedError);
    await expect(store.timeline('a').get(1n)).rejects.toBeInstanceOf(ClosedError);
    await expect(store.timeline('a').latest()).rejects.toBeInstanceOf(ClosedError);
    const [outcome] = await store.appendBatch([{ timelineId: 'a', message: 3 }]);
    expect(!outcome!.ok && outcome!.error).toBeInstanceOf(ClosedError);
  });
});

describe('a process that closes what it opened exits by itself', () => {
  const fixture = path.join(__dirname, 'fixtures', 'shutdown-child.ts');

  interface ChildRun {
    readonly code: number | null;
    readonly report: { mode: string; synced: number; roamed: number; closeMs: number; outcomes: string[]; after: string } | undefined;
    /** From the child's report line to its exit; undefined when it had to be killed. */
    readonly exitAfterReportMs: number | undefined;
    readonly stderr: string;
  }

  // Runs the fixture with ts-node; kills it if it is still alive `graceMs` after its report.
  function runChild(mode: string, graceMs: number): Promise<ChildRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register', fixture, mode], {
        cwd: path.join(__dirname, '..', '..'),
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', DEBUG: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let reportedAt: number | undefined;
      let killer: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => child.kill('SIGKILL'), 25_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (reportedAt === undefined && stdout.includes('\n')) {
          reportedAt = performance.now();
          killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(deadline);
        clearTimeout(killer);
        const line = stdout.split('\n')[0];
        resolve({
          code: signal === null ? code : null,
          report: line ? (JSON.parse(line) as ChildRun['report']) : undefined,
          exitAfterReportMs: signal === null && reportedAt !== undefined ? performance.now() - reportedAt : undefined,
          stderr,
        });
      });
    });
  }

  it.each(['orderly', 'server-first'])('%s: in-flight sends settle clearly, then the process exits with 0 at once', async (mode) => {
    const run = await runChild(mode, 3000);
    expect(run.stderr.replace(/\(node:\d+\) .*Warning.*\n?|\(Use `node --trace-warnings.*\n?/g, '')).toBe('');
    expect(run.code).toBe(0);
    expect(run.report).toMatchObject({ mode, synced: 20, roamed: 20, after: 'CLOSED' });
    expect(run.exitAfterReportMs).toBeDefined();
    expect(run.exitAfterReportMs!).toBeLessThan(1000);
    // Every send in flight settled with a clear outcome: sent; stored with its fan-out failed by
    // the closed store; or rejected with CLOSED or WRITE_UNCERTAIN.
    for (const outcome of run.report!.outcomes) expect(outcome).toMatch(/^(sent|CLOSED|WRITE_UNCERTAIN|stored, fan-out failed: (CLOSED|WRITE_UNCERTAIN))$/);
    expect(run.report!.closeMs).toBeLessThan(1500);
  });

  it('negative control: a process that leaves its emulator open does not exit (so the checks above can fail)', async () => {
    const run = await runChild('leak', 1500);
    expect(run.report?.mode).toBe('leak');
    expect(run.code).toBeNull(); // killed: still alive 1.5 s after its report
  });
});
