// Shutdown: on close() of a backend or a store, calls in flight complete or reject clearly (a
// ClosedError, or a WriteUncertainError for a write whose outcome is unknown), never hang; every
// later call rejects with a ClosedError; what a call reported written exists exactly once and
// what it reported not written does not exist; and a process that closes what it opened exits by
// itself, with no open handles (a child process, no process.exit).
//
// Requests "in flight" are held by the emulator (in its own process) until the test releases
// them, and the tests wait for events (a request held, a retry pause granted) instead of sleeping;
// the only time limits left are generous bounds that turn a hang into a failure.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError, MemoryBackend, TimelineError, TimelineStore, WriteUncertainError, type RowOutcome, type TimelineEntry } from '../../src/index.js';
import type { RetryStrategy } from '../../src/backends/tablestore/index.js';
import { bundleForNode, REPO_ROOT } from '../support/bundle.js';
import { buildMessenger, processRig, rawRows, uniqueTable, writeRequestsOf, type ProcessRig } from './harness.js';

/** A hang bound: far beyond any legitimate wait on a loaded machine, far below the test timeout. */
const HANG_MS = 30_000;

/** Whether a promise has settled by now (after the microtasks already queued). */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

/**
 * A strategy that grants one very long pause per failure (an hour: no test lives that long) and
 * calls `onPause` each time: close() must cut the pause short, or the call hangs.
 */
function longPauses(onPause: () => void): RetryStrategy {
  return () => {
    onPause();
    return 3_600_000;
  };
}

/** A promise with its resolve function, to wait for an event. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

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

let rig: ProcessRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

// Every case on both transports: the SDK's client and the wire path (the default), whose own
// connection pool must release held requests and sockets on close() as the SDK's agent does.
for (const transport of ['sdk', 'wire'] as const) {
  describe(`TableStoreBackend.close() (${transport} transport)`, { timeout: 120_000 }, () => {
    it('lets writes in flight finish, rejects the rest with ClosedError, and every later call too', async () => {
      rig = await processRig(6001, {}, {}, { transport });
      const { backend, emu } = rig;
      const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
      await store.init();
      await emu.faults.inject({ api: ['PutRow', 'BatchWriteRow'], hold: 'until-released' });
      const calls = Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? store.timeline(`t${i}`).append(i, { messageId: `m${i}` }).then(
              (entry): RowOutcome<TimelineEntry<number>> => ({ ok: true, entry }),
              (error: TimelineError): RowOutcome<TimelineEntry<number>> => ({ ok: false, error }),
            )
          : store.appendBatch([0, 1, 2].map((j) => ({ timelineId: `t${i}-${j}`, message: i * 10 + j, messageId: `m${i}-${j}` }))).then((o) => o[0]!),
      );
      // Every call's request is at the service: 6 PutRow, 6 BatchWriteRow.
      await emu.faults.whenHeld(12, HANG_MS);
      const closing = backend.close();
      // close() waits for the requests in flight: not done while the service holds them (a round
      // trip to the emulator gives it every chance to settle early if it does not wait).
      await emu.stats();
      expect(await hasSettled(closing)).toBe(false);
      expect(await emu.faults.release()).toBe(12);
      await settlesWithin(closing, HANG_MS, 'close()');
      const outcomes = await settlesWithin(Promise.all(calls), HANG_MS, 'the calls in flight');
      // They were sent before close(): they finish and succeed.
      expect(outcomes.every((o) => o.ok)).toBe(true);
      await emu.faults.clear();
      const stored = await rawRows(emu, store.table);
      expect(stored).toHaveLength(6 + 6 * 3);
      expect(new Set(stored.map((r) => r.messageId)).size).toBe(stored.length);
      // Every later call: ClosedError, nothing sent.
      const requests = JSON.stringify((await emu.stats()).requests);
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
      expect(JSON.stringify((await emu.stats()).requests)).toBe(requests);
      await backend.close(); // idempotent
    });

    it('stops a write waiting to retry at once: ClosedError, nothing written', async () => {
      // Both writes fail and wait to retry for an hour: only close() can end them in time.
      let pauses = 0;
      const bothPausing = signal();
      rig = await processRig(6002, {}, {}, { transport, retryStrategy: longPauses(() => ++pauses === 2 && bothPausing.fire()) });
      const { backend, emu } = rig;
      const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
      await store.init();
      await emu.faults.inject({ api: ['PutRow', 'BatchWriteRow'], code: 'OTSServerBusy' });
      const single = store.timeline('a').append(1).catch((e: unknown) => e);
      const batch = store.appendBatch([1, 2, 3].map((n) => ({ timelineId: `b${n}`, message: n })));
      await settlesWithin(bothPausing.promise, HANG_MS, 'both writes pausing');
      await settlesWithin(backend.close(), HANG_MS, 'close()');
      expect(await settlesWithin(single, HANG_MS, 'append')).toBeInstanceOf(ClosedError);
      const outcomes = await settlesWithin(batch, HANG_MS, 'appendBatch');
      for (const o of outcomes) expect(!o.ok && o.error).toBeInstanceOf(ClosedError);
      // Each write was tried once: nothing was re-sent after close().
      expect((await emu.stats()).requests).toMatchObject({ PutRow: 1, BatchWriteRow: 1 });
      await emu.faults.clear();
      expect(await rawRows(emu, store.table)).toEqual([]);
    });

    it('settles a write in doubt as WriteUncertainError (or ClosedError), never hangs, never guesses', async () => {
      // A dropped connection leaves each write in doubt; the backend pauses (an hour) before settling it.
      const firstPause = signal();
      rig = await processRig(6003, {}, {}, { transport, retryStrategy: longPauses(() => firstPause.fire()) });
      const { backend, emu } = rig;
      const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
      await store.init();
      await emu.faults.inject({ api: ['PutRow', 'BatchWriteRow'], drop: 'before-apply' });
      const single = store.timeline('a').append(1, { messageId: 'a1' }).catch((e: unknown) => e);
      const batch = store.appendBatch([1, 2].map((n) => ({ timelineId: `b${n}`, message: n, messageId: `b${n}` })));
      await settlesWithin(firstPause.promise, HANG_MS, 'a write in doubt, pausing');
      await settlesWithin(backend.close(), HANG_MS, 'close()');
      const errors = [await settlesWithin(single, HANG_MS, 'append'), ...(await settlesWithin(batch, HANG_MS, 'appendBatch')).map((o) => (o.ok ? o : o.error))];
      for (const e of errors) {
        expect(e instanceof WriteUncertainError || e instanceof ClosedError).toBe(true);
        expect((e as TimelineError).retryable || e instanceof ClosedError).toBe(true);
      }
      expect(errors.some((e) => e instanceof WriteUncertainError)).toBe(true);
      await emu.faults.clear();
      // Dropped before apply: nothing exists.
      expect(await rawRows(emu, store.table)).toEqual([]);
    });
  });

  describe(`TimelineStore.close() (${transport} transport)`, { timeout: 120_000 }, () => {
    it('lets the request in flight finish; requests not yet sent fail with ClosedError and are not written', async () => {
      rig = await processRig(6004, {}, {}, { transport });
      const { backend, emu } = rig;
      const store = new TimelineStore<number>({ backend, table: uniqueTable('sd') });
      await store.init();
      // The first request is held until released; later ones (if close() let any through) are not.
      await emu.faults.inject({ api: 'BatchWriteRow', hold: 'until-released', times: 1 });
      // 600 rows: 3 BatchWriteRow requests of 200, one at a time.
      const batch = store.appendBatch(
        Array.from({ length: 600 }, (_, i) => ({ timelineId: `t${i}`, message: i, messageId: `m${i}` })),
        { concurrency: 1 },
      );
      await emu.faults.whenHeld(1, HANG_MS);
      await store.close();
      await emu.faults.release();
      const outcomes = await settlesWithin(batch, HANG_MS, 'appendBatch');
      const written = outcomes.filter((o) => o.ok);
      expect(written).toHaveLength(200);
      for (const o of outcomes.slice(200)) expect(!o.ok && o.error).toBeInstanceOf(ClosedError);
      expect((await emu.stats()).requests.BatchWriteRow).toBe(1);
      await emu.faults.clear();
      const stored = await rawRows(emu, store.table);
      expect(stored.map((r) => r.messageId).sort()).toEqual(written.map((o) => (o.ok ? o.entry.messageId : '')).sort());
      // The store is closed, its backend is not: another store on it still works.
      await expect(store.init()).rejects.toBeInstanceOf(ClosedError);
      await expect(store.timeline('t0').append(1)).rejects.toBeInstanceOf(ClosedError);
      const other = new TimelineStore<number>({ backend, table: store.table });
      expect((await other.timeline('t0').append(1)).seq).toBeGreaterThan(0n);
    });

    it('a Messenger over closed stores rejects every call with ClosedError and writes nothing', async () => {
      rig = await processRig(6005, {}, {}, { transport });
      const { messenger, history, inbox } = buildMessenger(rig.backend);
      await Promise.all([history.init(), inbox.init()]);
      await messenger.send({ conversationId: 'c', senderId: 'a', recipients: ['b'], message: { k: 0, text: 'x' }, messageId: 'm0' });
      await Promise.all([history.close(), inbox.close()]);
      const writes = await writeRequestsOf(rig.emu);
      await expect(messenger.send({ conversationId: 'c', senderId: 'a', recipients: ['b'], message: { k: 1, text: 'y' }, messageId: 'm1' })).rejects.toBeInstanceOf(ClosedError);
      await expect(messenger.sync('b')).rejects.toBeInstanceOf(ClosedError);
      await expect(messenger.history('c')).rejects.toBeInstanceOf(ClosedError);
      expect(await writeRequestsOf(rig.emu)).toBe(writes);
    });

    it.runIf(transport === 'sdk')('MemoryBackend: every call after close() rejects with ClosedError; close() is idempotent', async () => {
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
}

// Hang bounds, not speed tests: a child's run takes 1-3 s, far longer when other processes load the cores.
describe('a process that closes what it opened exits by itself', { timeout: 120_000 }, () => {
  const fixture = path.join(__dirname, 'fixtures', 'shutdown-child.ts');

  interface ChildRun {
    readonly code: number | null;
    readonly report: { mode: string; synced: number; roamed: number; closeMs: number; outcomes: string[]; after: string; resources: string[] } | undefined;
    /** From the child's report line to its exit; undefined when it had to be killed. */
    readonly exitAfterReportMs: number | undefined;
    readonly stderr: string;
  }

  // Runs the fixture (bundled, plain node); kills it if it is still alive `graceMs` after its report.
  function runChild(mode: string, graceMs: number, transport: 'sdk' | 'wire' = 'sdk'): Promise<ChildRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bundleForNode(fixture), mode, transport], {
        cwd: REPO_ROOT,
        env: { ...process.env, DEBUG: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let reportedAt: number | undefined;
      let killer: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => child.kill('SIGKILL'), 90_000);
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

  // On both transports: the wire path's own sockets must not keep the process alive either.
  it.each([
    ['orderly', 'sdk'],
    ['server-first', 'sdk'],
    ['orderly', 'wire'],
    ['server-first', 'wire'],
  ] as const)('%s (%s transport): in-flight sends settle clearly, then the process exits with 0 at once', async (mode, transport) => {
    // Killed if still alive 5 s after its report: a hang bound, not a speed test.
    const run = await runChild(mode, 5000, transport);
    expect(run.stderr.replace(/\(node:\d+\) .*Warning.*\n?|\(Use `node --trace-warnings.*\n?/g, '')).toBe('');
    expect(run.code).toBe(0);
    expect(run.report).toMatchObject({ mode, synced: 20, roamed: 20, after: 'CLOSED' });
    expect(run.exitAfterReportMs).toBeDefined();
    // "At once": when it reported, nothing but handles already closing was left, no timer (a
    // pending timer, e.g. a retry pause or a keep-alive, would hold the process).
    expect(run.report!.resources.filter((r) => r === 'Timeout' || r === 'TTYWrap')).toEqual([]);
    // Every send in flight settled with a clear outcome: sent; stored with its fan-out failed by
    // the closed store; or rejected with CLOSED or WRITE_UNCERTAIN.
    for (const outcome of run.report!.outcomes) expect(outcome).toMatch(/^(sent|CLOSED|WRITE_UNCERTAIN|stored, fan-out failed: (CLOSED|WRITE_UNCERTAIN))$/);
  });

  it('negative control: a process that leaves its emulator open does not exit (so the checks above can fail)', async () => {
    const run = await runChild('leak', 1500);
    expect(run.report?.mode).toBe('leak');
    expect(run.report!.resources).toContain('TCPServerWrap');
    expect(run.code).toBeNull(); // killed: still alive 1.5 s after its report
  });
});
