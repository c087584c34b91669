// The soak: many messages through the Messenger on the TableStore backend against an emulator in
// its own process (so that the client's loaded event loop cannot delay the service's answers into
// timeouts no fault injected), with faults on (seeded), devices syncing throughout, every message
// verified. The run is cut into epochs of fresh tables (the previous epoch's are verified, then
// deleted), so that the heap measures the library and the workload, not the data kept so far: a
// leak shows as retained heap growing from epoch to epoch.
//
// Used by scripts/soak.ts (the long run, `npm run soak`) and test/reliability/soak.test.ts (the CI
// run). Prints progress lines, and ends with one summary line.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { FaultSpec } from '../../src/emulator/index.js';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';
import { buildMessenger, leaseClock, pauseAfterTimeouts, processRig } from './harness.js';
import { backgroundSync, drainAll, makeDevices, makePlan, newSendStats, runSenders, verify } from './scenario.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Messages in all. @default 100000 */
  readonly messages?: number;
  /** Messages per epoch (fresh tables each). @default 10000 */
  readonly epochMessages?: number;
  /** Seed of the workload, the emulator's faults and the retry jitter. @default 20260101 */
  readonly seed?: number;
  /** Senders sending at once (each one sequentially). @default 16 */
  readonly senders?: number;
  /** Devices syncing at once while messages are sent. @default 4 */
  readonly syncWorkers?: number;
  /** Faults; default: about 10 % of data requests, every kind (see {@link SOAK_FAULTS}). */
  readonly faults?: readonly FaultSpec[];
  /** The backend's transport: the SDK's client or the wire path. @default 'sdk' */
  readonly transport?: 'sdk' | 'wire';
  /** Fails the run when the sampled heap exceeds this many MB. @default 768 */
  readonly heapBoundMb?: number;
  /** Where progress and summary lines go. @default console.log */
  readonly log?: (line: string) => void;
}

/** What {@link runSoak} measured. */
export interface SoakSummary {
  readonly sent: number;
  /** (recipient, message) pairs that every device of the recipient received exactly once, in order. */
  readonly delivered: number;
  /** Retries: the backend's own (pauses its retry strategy granted) plus the clients' re-sends. */
  readonly retried: number;
  /** Client re-sends (send calls beyond the first of a message). */
  readonly resent: number;
  /** Retries the backend made by itself. */
  readonly backendRetries: number;
  /** Receipts of a message a device had already received, plus extra history entries. */
  readonly duplicates: number;
  /** Messages missing from a device's sync or from their conversation's history. */
  readonly lost: number;
  readonly outOfOrder: number;
  /** Device receipts, all devices. */
  readonly receipts: number;
  readonly syncCalls: number;
  readonly requests: number;
  /** Faults that fired (a request with per-row errors counts once per row-error spec). */
  readonly faulted: number;
  readonly maxHeapMb: number;
  /** Heap after a full GC at the end of each epoch, its tables deleted. */
  readonly retainedHeapMb: readonly number[];
  readonly heapBoundMb: number;
  readonly elapsedMs: number;
  readonly problems: readonly string[];
  /** The summary line. */
  readonly line: string;
}

/** Data APIs: table operations (creating and deleting the epochs' tables) are not faulted. */
const DATA = ['PutRow', 'BatchWriteRow', 'GetRange', 'GetRow'];

/** About 10 % of data requests faulted, every kind: throttling, 5xx, dropped connections, per-row errors, held requests. */
export const SOAK_FAULTS: readonly FaultSpec[] = [
  { api: DATA, code: 'OTSServerBusy', probability: 0.02 },
  { api: DATA, code: 'OTSNotEnoughCapacityUnit', probability: 0.01 },
  { api: DATA, code: 'OTSRowOperationConflict', probability: 0.01 },
  { api: DATA, code: 'OTSPartitionUnavailable', probability: 0.01 },
  { api: DATA, code: 'OTSInternalServerError', status: 500, probability: 0.01 },
  { api: DATA, drop: 'before-apply', probability: 0.01 },
  { api: DATA, drop: 'after-apply', probability: 0.01 },
  // Held until the client gives up (its 2 s request timeout), then applied: the pause after a
  // timeout (800 ms) lets the backend's tail check see it.
  { api: DATA, hold: 'until-disconnect', probability: 0.0005 },
  // Per-row errors in 10 % of BatchWriteRow requests, on 10 % (resp. 5 %) of their rows.
  { api: 'BatchWriteRow', probability: 0.1, rowError: { code: 'OTSServerBusy' }, rows: { probability: 0.1 } },
  { api: 'BatchWriteRow', probability: 0.1, rowError: { code: 'OTSTimeout' }, rows: { probability: 0.05 } },
];

/**
 * Conversations of an epoch: 60 one-to-one chats, 30 small groups (3-8), 8 groups of 15-50 and one
 * group of 120 over the large-group threshold (read diffusion): 665 users.
 */
const GROUP_SIZES: readonly number[] = [
  ...Array.from({ length: 60 }, () => 2),
  ...Array.from({ length: 30 }, (_, i) => 3 + (i % 6)),
  15, 20, 25, 30, 35, 40, 45, 50,
  120,
];
const THRESHOLD = 100;

function fullGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const n = (value: number): string => value.toLocaleString('en-US');

export async function runSoak(options: SoakOptions = {}): Promise<SoakSummary> {
  const total = options.messages ?? 100_000;
  const perEpoch = Math.min(options.epochMessages ?? 10_000, total);
  const seed = options.seed ?? 20_260_101;
  const heapBoundMb = options.heapBoundMb ?? 768;
  const log = options.log ?? ((line: string) => console.log(line));
  const gc = fullGc();
  const started = performance.now();

  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  let maxHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
  }, 100);
  sampler.unref();

  // The backend's own retries are counted where they are decided: each pause its strategy grants.
  let backendRetries = 0;
  // A request timeout the event loop's own lag cannot reach (a spurious timeout is a held request
  // no fault injected), and a pause after a timeout that outlasts the injected holds.
  const strategy = pauseAfterTimeouts(8000, 800, seed);
  const rig = await processRig(seed, { requestTimeoutMs: 2000, budgetMs: 8000, record: false }, {}, {
    transport: options.transport ?? 'sdk',
    retryStrategy: (context) => {
      const delay = strategy(context);
      if (delay !== null) backendRetries += 1;
      return delay;
    },
  });
  const sdk = await loadTableStoreSdk();
  const admin = new sdk.Client({ ...rig.emu.clientConfig(), accessKeySecret: rig.emu.accessKeySecret, maxRetries: 0 } as never);
  await rig.emu.faults.inject(...(options.faults ?? SOAK_FAULTS));

  const totals = { sent: 0, delivered: 0, resent: 0, duplicates: 0, lost: 0, outOfOrder: 0, receipts: 0, syncCalls: 0 };
  const retained: number[] = [];
  const problems: string[] = [];
  let final: Awaited<ReturnType<typeof rig.emu.stats>> = { requests: {}, errors: {}, faults: {}, rows: {} };
  log(
    `[soak] ${n(total)} messages in epochs of ${n(perEpoch)}, ${GROUP_SIZES.length} conversations of 665 users per epoch, ` +
      `${options.senders ?? 16} senders at once, ${(options.faults ?? SOAK_FAULTS).length} fault specs (~10 % of data requests), seed ${seed}`,
  );
  try {
    for (let epoch = 0, done = 0; done < total; epoch++) {
      const messages = Math.min(perEpoch, total - done);
      const plan = makePlan({
        seed: seed + epoch,
        prefix: `e${epoch}-`,
        groupSizes: GROUP_SIZES,
        messages,
        largeGroupThreshold: THRESHOLD,
        secondDeviceEvery: 5,
        syncLimits: [20, 100, 200],
      });
      // The journal's lease lapses in real time, as in production (see leaseClock): a claim a held
      // write strands costs its re-send seconds, not the run.
      const { messenger, history, inbox } = buildMessenger(rig.backend, {
        largeGroupThreshold: THRESHOLD,
        largeGroupsOf: plan.largeGroupsOf,
        now: leaseClock(),
        journal: { leaseMs: 5000 },
      });
      const devices = makeDevices(plan);
      const stats = newSendStats();
      const background = backgroundSync(messenger, devices, { seed: seed + epoch, workers: options.syncWorkers ?? 4, syncsPerSend: 1 });
      try {
        await runSenders(messenger, plan, stats, { concurrency: options.senders ?? 16, keepSeqs: true, onSent: background.sent });
      } finally {
        await background.stop();
      }
      await drainAll(messenger, devices, 16, stats.seqs);
      const verdict = await verify(plan, devices, messenger, { pageLimit: 100 });
      const rows = (await rig.emu.stats()).rows;
      if (rows[history.table] !== messages) verdict.problems.push(`history table holds ${rows[history.table]} rows for ${messages} messages`);
      if (rows[inbox.table] !== plan.inboxRows) verdict.problems.push(`inbox table holds ${rows[inbox.table]} rows, ${plan.inboxRows} expected`);
      for (const fatal of stats.fatal) verdict.problems.push(fatal);
      if (stats.delivered !== messages) verdict.problems.push(`${messages - stats.delivered} messages never confirmed delivered to every inbox`);

      done += messages;
      totals.sent += stats.delivered;
      totals.delivered += verdict.delivered;
      totals.resent += stats.resends;
      totals.duplicates += verdict.duplicates + verdict.historyDuplicates;
      totals.lost += verdict.lost;
      totals.outOfOrder += verdict.outOfOrder + verdict.seqMismatches;
      totals.receipts += verdict.receipts;
      totals.syncCalls += devices.reduce((sum, d) => sum + d.syncCalls, 0);
      problems.push(...verdict.problems.slice(0, 20 - problems.length));

      // Done with this epoch: drop its tables, then measure what the process still holds.
      for (const table of [history.table, inbox.table]) await (admin as unknown as { deleteTable(p: { tableName: string }): Promise<unknown> }).deleteTable({ tableName: table });
      gc();
      retained.push(mb(process.memoryUsage().heapUsed));
      const emu = await rig.emu.stats();
      const faulted = Object.values(emu.faults).reduce((a, b) => a + b, 0);
      log(
        `[soak] epoch ${epoch + 1}: ${n(done)}/${n(total)} sent, ${n(totals.delivered)} delivered, ${n(backendRetries)} backend retries, ${n(totals.resent)} client re-sends, ` +
          `${n(totals.duplicates)} duplicates, ${n(totals.lost)} lost, ${n(faulted)} faults fired, ` +
          `heap max ${mb(maxHeap)} MB, retained ${retained[retained.length - 1]} MB, event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, ` +
          `${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
      if (verdict.problems.length > 0) log(`[soak]   problems: ${verdict.problems.slice(0, 5).join(' | ')}`);
      if (mb(maxHeap) > heapBoundMb) throw new Error(`heap reached ${mb(maxHeap)} MB, over the bound of ${heapBoundMb} MB`);
    }
    final = await rig.emu.stats();
  } finally {
    clearInterval(sampler);
    loopDelay.disable();
    await rig.close();
  }
  // No leak: after the first epochs (warm-up), what survives a full GC does not grow with the run.
  if (retained.length >= 5 && retained[retained.length - 1]! - retained[1]! > 25) {
    problems.push(`retained heap grew from ${retained[1]} MB (epoch 2) to ${retained[retained.length - 1]} MB`);
  }
  const emu = final;
  const requests = Object.values(emu.requests).reduce((a, b) => a + b, 0);
  const faulted = Object.values(emu.faults).reduce((a, b) => a + b, 0);
  const elapsedMs = performance.now() - started;
  const maxHeapMb = mb(maxHeap);
  const retried = backendRetries + totals.resent;
  const line =
    `soak: sent=${totals.sent} delivered=${totals.delivered} retried=${retried} duplicates=${totals.duplicates} lost=${totals.lost} ` +
    `(${n(backendRetries)} backend retries + ${n(totals.resent)} client re-sends; out of order ${totals.outOfOrder}; ` +
    `${n(totals.receipts)} device receipts in ${n(totals.syncCalls)} syncs; ${n(requests)} requests, ${n(faulted)} faults fired; ` +
    `max heap ${maxHeapMb} MB, bound ${heapBoundMb} MB, retained after each epoch ${Math.min(...retained)}-${Math.max(...retained)} MB; event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms; ` +
    `${(elapsedMs / 1000).toFixed(0)} s)`;
  log(line);
  return {
    ...totals,
    retried,
    backendRetries,
    requests,
    faulted,
    maxHeapMb,
    retainedHeapMb: retained,
    heapBoundMb,
    elapsedMs,
    problems,
    line,
  };
}
