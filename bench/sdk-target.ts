/**
 * Shared plumbing of the benchmark suites that go through the official `tablestore` SDK (fan-out,
 * sync): an emulator in its own process with the library's backend and a raw SDK client on it,
 * exact request counts, the timeline tables, round-trip samples, and the measurement of one timed
 * run (wall time, this process's CPU time, event-loop idle time).
 *
 * Measured the way a service runs: the emulator has its own process (its work is not the
 * client's), and no GC is forced before or inside a timed run (a forced full GC deoptimises the
 * SDK's hot code and made the client look about 3× slower than it is).
 */
import { TableStoreBackend } from '../src/backends/tablestore/index.js';
import type { TableStoreClientLike, TableStoreSdk } from '../src/backends/tablestore/sdk-types.js';
import { startEmulatorProcess, type EmulatorProcess } from '../test/support/emulator-process.js';
import { formatValue } from './harness.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const TableStore = require('tablestore') as TableStoreSdk;

/** Latency the emulator adds to every request, ms. */
export const LATENCY_MS = 5;
/** TableStore's BatchWriteRow row limit. */
export const BATCH_ROWS = 200;
/** TableStore's GetRange page limit. */
export const PAGE_ROWS = 5000;
/** Fan-out requests in flight: 16 (the default) sends all 10 batches of N = 2,000 at once. */
export const CONCURRENCY = 16;
export const SEVEN_DAYS = 7 * 86400;
export const CURSOR_SECRET = 'bench-cursor-secret-0123456789abcdef';
const SEED = 20150101;

/** The application message of the benchmarks: a short text, as an IM client sends it. */
export interface Chat {
  type: 'text';
  text: string;
}

export const CHAT: Chat = { type: 'text', text: 'See you at 7 at the usual place — the slides are in the shared folder.' };
export const SENT_AT = 1_767_225_600_000;

/** An emulator process with the library's backend and a raw SDK client on it. */
export interface Target {
  readonly emu: EmulatorProcess;
  readonly backend: TableStoreBackend;
  readonly client: TableStoreClientLike;
}

export async function openTarget(latencyMs: number): Promise<Target> {
  const emu = await startEmulatorProcess({ latencyMs, seed: SEED });
  const backend = new TableStoreBackend({ ...emu.connection(), requestTimeoutMs: 60_000 });
  // The raw client, configured as an application would: no SDK retries (nothing fails here) and
  // a timeout, since the SDK has none.
  const client = new TableStore.Client({ ...emu.clientConfig(), accessKeySecret: emu.accessKeySecret, maxRetries: 0, httpOptions: { timeout: 60_000 } });
  return { emu, backend, client };
}

export async function closeTarget(target: Target): Promise<void> {
  await target.backend.close();
  await target.emu.close();
}

/** Requests per API name. */
export type Counts = Record<string, number>;

/** Requests the emulator has received, per API. */
export async function requestCounts(target: Target): Promise<Counts> {
  return { ...(await target.emu.stats()).requests };
}

/** Requests received since `before` (a {@link requestCounts} result), per API. */
export async function requestsSince(target: Target, before: Counts): Promise<Counts> {
  const after = await requestCounts(target);
  const out: Counts = {};
  for (const [api, count] of Object.entries(after)) {
    const delta = count - (before[api] ?? 0);
    if (delta > 0) out[api] = delta;
  }
  return out;
}

export const total = (counts: Counts): number => Object.values(counts).reduce((a, b) => a + b, 0);
// Requests in the order a send makes them: the dedupe read, the store write, the fan-out.
const API_ORDER = ['GetRange', 'PutRow', 'BatchWriteRow'];
const apiRank = (api: string): number => (API_ORDER.includes(api) ? API_ORDER.indexOf(api) : API_ORDER.length);
export const describeCounts = (counts: Counts): string =>
  Object.entries(counts)
    .sort(([a], [b]) => apiRank(a) - apiRank(b) || a.localeCompare(b))
    .map(([api, n]) => `${n.toLocaleString('en-US')} ${api}`)
    .join(' + ');
export const sameCounts = (a: Counts, b: Counts): boolean => describeCounts(a) === describeCounts(b);

export const IGNORE = (): unknown => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);

/** A timeline table, as the source article's sample creates it (and as the backend's `init` would). */
export async function createTimelineTable(client: TableStoreClientLike, tableName: string, timeToLive: number): Promise<void> {
  await client.createTable({
    tableMeta: {
      tableName,
      primaryKey: [
        { name: 'timeline_id', type: 'STRING' },
        { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
      ],
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive, maxVersions: 1 },
  });
}

/** Round trips of one small request (a one-row PutRow, or a one-row GetRange), ms each. */
export async function sampleRoundTrips(target: Target, kind: 'PutRow' | 'GetRange', count: number): Promise<number[]> {
  await target.emu.reset();
  await createTimelineTable(target.client, 'rtt', -1);
  const put = (): Promise<unknown> =>
    target.client.putRow({
      tableName: 'rtt',
      condition: IGNORE(),
      primaryKey: [{ timeline_id: 'rtt' }, { seq_id: TableStore.PK_AUTO_INCR }],
      attributeColumns: [{ payload: Buffer.from('{"type":"text","text":"ok"}') }],
      returnContent: { returnType: TableStore.ReturnType.Primarykey },
    });
  const get = (): Promise<unknown> =>
    target.client.getRange({
      tableName: 'rtt',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ timeline_id: 'rtt' }, { seq_id: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ timeline_id: 'rtt' }, { seq_id: TableStore.INF_MAX }],
      limit: 1,
      maxVersions: 1,
    });
  await put();
  const one = kind === 'PutRow' ? put : get;
  for (let i = 0; i < 3; i++) await one(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await one();
    samples.push(performance.now() - start);
  }
  return samples;
}

/** The bytes the raw contenders write: the same JSON the library writes, encoded once. */
export function rawPayload(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

/** One timed run. */
export interface Measurement {
  /** Wall time, ms. */
  readonly ms: number;
  /** CPU time of this process, the client (user + system, every thread, GC included), ms. */
  readonly cpuMs: number;
  /** Time the event loop sat idle, waiting for the emulator's answers, ms. */
  readonly idleMs: number;
  /** Requests the emulator received during the run. */
  readonly requests: Counts;
}

/**
 * Times `fn` in wall time, this process's CPU time and event-loop idle time, and counts the
 * requests it made. No GC is forced: the heap is as a running service has it.
 */
export async function timed<R>(target: Target, fn: () => Promise<R>): Promise<{ result: R } & Measurement> {
  const before = await requestCounts(target);
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const start = performance.now();
  const result = await fn();
  const ms = performance.now() - start;
  const idle = performance.eventLoopUtilization(loop).idle;
  const used = process.cpuUsage(cpu);
  return { result, ms, cpuMs: (used.user + used.system) / 1000, idleMs: idle, requests: await requestsSince(target, before) };
}

export const ms = (value: number): string => `${formatValue(value)} ms`;
export const range = (values: readonly number[]): string => `${formatValue(Math.min(...values))}–${formatValue(Math.max(...values))}`;
export const n$ = (n: number): string => n.toLocaleString('en-US');
/** Microseconds per item, for a row's detail. */
export const perItem = (cpuMs: number, items: number): string => `${formatValue((cpuMs / items) * 1000)} µs`;
