// Shared set-up of the reliability suites: a seeded PRNG, the TableStore backend on an emulator
// (in-process, or in a child process for suites that depend on timeouts and holds) with a small,
// seeded retry budget and a record of every retry decision, a backend wrapper that times every
// call, and a Messenger over fresh tables.
import { randomBytes } from 'node:crypto';
import {
  MemoryBackend,
  Messenger,
  StoreTimeline,
  SyncTimeline,
  TimelineStore,
  type AppendRow,
  type AppendRowResult,
  type BackendAppendOptions,
  type EnsureTableOptions,
  type InboxMessage,
  type JournalOptions,
  type LargeGroup,
  type ScanPage,
  type ScanPageRequest,
  type StoredMessage,
  type StoredRow,
  type TableDescription,
  type TableSpec,
  type TimelineBackend,
} from '../../src/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { mulberry32 } from '../../src/emulator/prng.js';
import { TableStoreBackend, createRetryStrategy, type RetryContext, type RetryStrategy, type TableStoreBackendOptions } from '../../src/backends/tablestore/index.js';
import { startEmulatorProcess, type EmulatorProcess, type EmulatorProcessOptions } from '../support/emulator-process.js';

/**
 * Whether the long versions of the bounded suites run (`SOAK=1 npx vitest run test/reliability`):
 * the fault matrix on its full workload in every case (300 recipients, 330 devices), the
 * multi-process journal test with 50 crash points (not 12) in a 500-member group (not 250) and 200
 * racing ids (not 100), the CI soak with 2,000 messages (not 1,000). The default sizes keep CI's
 * time budget and prove the same invariants on fewer rows; the long ones find rarer
 * interleavings. Same seeds either way.
 */
export const LONG_RUN = process.env.SOAK === '1';

/** A deterministic PRNG in [0, 1): the emulator's own mulberry32, so both draw from one algorithm. */
export const prng = mulberry32;

/** An integer in [0, n). */
export const pick = (random: () => number, n: number): number => Math.floor(random() * n);

/** A table name no other test uses. */
export const uniqueTable = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

/** Retry settings of the backends under test: small budgets keep failure paths fast. */
export interface RetrySettings {
  /** Total retry budget per operation. @default 1000 */
  readonly budgetMs?: number;
  /** @default 1 */
  readonly baseDelayMs?: number;
  /** @default 20 */
  readonly maxDelayMs?: number;
  /**
   * Per-request timeout of the SDK client. The production default: a shorter one can fire on a
   * request the in-process emulator has not handled yet because the loaded event loop is late,
   * which is a held request (docs/guarantees.md, "Limits") that no fault injected.
   * @default 10000
   */
  readonly requestTimeoutMs?: number;
  /** ({@link processRig}) Keep every retry decision in `retries`; off for long runs that measure the heap. @default true */
  readonly record?: boolean;
}

/**
 * The default strategy (1-20 ms pauses within `budgetMs`), except that after a request timed out
 * on the client it pauses `afterTimeoutMs` before the next attempt, and so before the tail check
 * that settles a timed-out write: a request the service still holds gets that long to land, so
 * that the check sees it (docs/guarantees.md, "Limits"). What an application facing slow
 * requests can configure.
 */
export function pauseAfterTimeouts(budgetMs: number, afterTimeoutMs: number, seed: number): RetryStrategy {
  const base = createRetryStrategy({ budgetMs, baseDelayMs: 1, maxDelayMs: 20, random: prng(seed) });
  return (context) => {
    const delay = base(context);
    if (delay === null || context.error.backendCode !== 'TimeoutError') return delay;
    return context.elapsedMs + afterTimeoutMs > budgetMs ? null : afterTimeoutMs;
  };
}

/** An emulator and a TableStore backend connected to it. */
export interface TableStoreRig {
  readonly emu: Emulator;
  readonly backend: TableStoreBackend;
  readonly budgetMs: number;
  readonly requestTimeoutMs: number;
  close(): Promise<void>;
}

/** Starts an emulator (seeded) and a TableStore backend with a seeded, small retry budget. */
export async function tableStoreRig(
  seed: number,
  retry: RetrySettings = {},
  emulator: EmulatorOptions = {},
  backend: Partial<TableStoreBackendOptions> = {},
): Promise<TableStoreRig> {
  const budgetMs = retry.budgetMs ?? 1000;
  const requestTimeoutMs = retry.requestTimeoutMs ?? 10_000;
  const emu = await startEmulator({ port: 0, seed, ...emulator });
  const b = new TableStoreBackend({
    ...emu.connection(),
    requestTimeoutMs,
    retryStrategy: createRetryStrategy({
      budgetMs,
      baseDelayMs: retry.baseDelayMs ?? 1,
      maxDelayMs: retry.maxDelayMs ?? 20,
      random: prng(seed ^ 0x5eed),
    }),
    ...backend,
  });
  return {
    emu,
    backend: b,
    budgetMs,
    requestTimeoutMs,
    close: async () => {
      await b.close();
      await emu.close();
    },
  };
}

/** One decision of a retry strategy, as {@link recordRetries} saw it. */
export interface RetryDecision {
  readonly operation: string;
  readonly attempt: number;
  /** The backend's own reading of the time since the operation started. */
  readonly elapsedMs: number;
  readonly errorCode: string | undefined;
  /** The pause granted, or `null`: gave up. */
  readonly delayMs: number | null;
}

/**
 * Wraps a strategy so that every decision is recorded: what the backend guarantees about its
 * budget is checked on these ("no attempt starts after the budget"), not on the test's wall time,
 * which a loaded machine stretches at will.
 */
export function recordRetries(inner: RetryStrategy, into: RetryDecision[]): RetryStrategy {
  return (context: RetryContext) => {
    const delayMs = inner(context);
    into.push({ operation: context.operation, attempt: context.attempt, elapsedMs: context.elapsedMs, errorCode: context.error.backendCode, delayMs });
    return delayMs;
  };
}

/** Granted pauses after which the next attempt would start past `budgetMs`: each one is a broken budget. */
export function attemptsPastBudget(decisions: readonly RetryDecision[], budgetMs: number): RetryDecision[] {
  return decisions.filter((d) => d.delayMs !== null && d.elapsedMs + d.delayMs > budgetMs);
}

/** An emulator in a child process and a TableStore backend connected to it; every retry decision is recorded. */
export interface ProcessRig {
  readonly emu: EmulatorProcess;
  readonly backend: TableStoreBackend;
  readonly budgetMs: number;
  readonly requestTimeoutMs: number;
  /** Every decision of the backend's retry strategy, in order. */
  readonly retries: RetryDecision[];
  close(): Promise<void>;
}

/**
 * Like {@link tableStoreRig}, with the emulator in its own process: the client's event loop,
 * however loaded, cannot delay the service's answers, and holds are released by events.
 * `retryStrategy` replaces the default strategy (recorded all the same).
 */
export async function processRig(
  seed: number,
  retry: RetrySettings = {},
  emulator: EmulatorProcessOptions = {},
  backend: Partial<TableStoreBackendOptions> = {},
): Promise<ProcessRig> {
  const budgetMs = retry.budgetMs ?? 1000;
  const requestTimeoutMs = retry.requestTimeoutMs ?? 10_000;
  const emu = await startEmulatorProcess({ seed, ...emulator });
  const retries: RetryDecision[] = [];
  const strategy =
    backend.retryStrategy ??
    createRetryStrategy({ budgetMs, baseDelayMs: retry.baseDelayMs ?? 1, maxDelayMs: retry.maxDelayMs ?? 20, random: prng(seed ^ 0x5eed) });
  const b = new TableStoreBackend({ ...emu.connection(), requestTimeoutMs, ...backend, retryStrategy: retry.record === false ? strategy : recordRetries(strategy, retries) });
  return {
    emu,
    backend: b,
    budgetMs,
    requestTimeoutMs,
    retries,
    close: async () => {
      await b.close();
      await emu.close();
    },
  };
}

/** Write requests an emulator process has received (PutRow, BatchWriteRow, UpdateRow, DeleteRow). */
export async function writeRequestsOf(emu: EmulatorProcess): Promise<number> {
  const r = (await emu.stats()).requests;
  return (r.PutRow ?? 0) + (r.BatchWriteRow ?? 0) + (r.UpdateRow ?? 0) + (r.DeleteRow ?? 0);
}

/** Write requests an emulator has received (PutRow, BatchWriteRow, UpdateRow, DeleteRow). */
export function writeRequests(emu: Emulator): number {
  const r = emu.stats().requests;
  return (r.PutRow ?? 0) + (r.BatchWriteRow ?? 0) + (r.UpdateRow ?? 0) + (r.DeleteRow ?? 0);
}

/** Rows visible in the emulator, all tables together. */
export function visibleRows(emu: Emulator): number {
  return Object.values(emu.stats().rows).reduce((a, b) => a + b, 0);
}

/** Durations of the calls of one backend method. */
export interface CallTimes {
  count: number;
  maxMs: number;
  totalMs: number;
}

/**
 * Delegates to a backend and records how long each call took and how many rows were appended:
 * the retry budget is a bound per backend operation, so this is where it is measured.
 */
export class TimedBackend implements TimelineBackend {
  readonly times: Record<'append' | 'scan' | 'get' | 'ensureTable', CallTimes> = {
    append: { count: 0, maxMs: 0, totalMs: 0 },
    scan: { count: 0, maxMs: 0, totalMs: 0 },
    get: { count: 0, maxMs: 0, totalMs: 0 },
    ensureTable: { count: 0, maxMs: 0, totalMs: 0 },
  };
  appendedRows = 0;
  readonly #inner: TimelineBackend;
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(inner: TimelineBackend) {
    this.#inner = inner;
  }

  get capabilities(): TimelineBackend['capabilities'] {
    return this.#inner.capabilities;
  }

  get records(): TimelineBackend['records'] {
    return this.#inner.records;
  }

  async #timed<R>(what: keyof TimedBackend['times'], fn: () => Promise<R>): Promise<R> {
    const started = performance.now();
    this.#inFlight += 1;
    try {
      return await fn();
    } finally {
      this.#inFlight -= 1;
      if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
      const ms = performance.now() - started;
      const t = this.times[what];
      t.count += 1;
      t.totalMs += ms;
      if (ms > t.maxMs) t.maxMs = ms;
    }
  }

  ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    return this.#timed('ensureTable', () => this.#inner.ensureTable(spec, options));
  }

  append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    this.appendedRows += rows.length;
    return this.#timed('append', () => this.#inner.append(table, rows, options));
  }

  get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    return this.#timed('get', () => this.#inner.get(table, timelineId, seq, options));
  }

  scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    return this.#timed('scan', () => this.#inner.scan(table, request));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Resolves when no call is in flight (at once if none is): an event to wait for instead of a sleep. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** The slowest call of any method, in ms. */
  get maxMs(): number {
    return Math.max(...Object.values(this.times).map((t) => t.maxMs));
  }
}

/** The application message of the reliability scenarios: its index in its sender's sequence for its conversation. */
export interface Msg {
  readonly k: number;
  readonly text: string;
}

export const CURSOR_SECRET = 'reliability-suite-cursor-secret-0123456789';

/** A deterministic clock: starts at a fixed date and moves 1 ms per reading. */
export function tickingClock(start = Date.UTC(2026, 0, 1)): () => number {
  let t = start;
  return () => t++;
}

/**
 * A clock for leases: starts at a fixed date and moves 1 ms per reading, and with real time too.
 * A send journal's lease must lapse in time as it does in production: on {@link tickingClock}
 * alone a 30 s lease lasts 30,000 readings, so a claim stranded by a held write (its read-back
 * came before the service applied it) outlived fifty 10 s claim waits of the client's re-sends
 * (500 s, then "not delivered after 50 attempts"), and while background syncs read the clock
 * hundreds of times a second it lapsed only after a minute of them (45,295 GetRange in 83 s).
 * Nothing is asserted on it.
 */
export function leaseClock(start = Date.UTC(2026, 0, 1)): () => number {
  const origin = performance.now();
  let readings = 0;
  return () => start + readings++ + Math.floor(performance.now() - origin);
}

/** A Messenger over two fresh tables of `backend`. */
export function buildMessenger(
  backend: TimelineBackend,
  options: {
    largeGroupThreshold?: number;
    largeGroupsOf?: (userId: string) => Iterable<string | LargeGroup>;
    now?: () => number;
    dedupeWindow?: number;
    journal?: false | JournalOptions;
  } = {},
): { messenger: Messenger<Msg>; history: TimelineStore<StoredMessage<Msg>>; inbox: TimelineStore<InboxMessage<Msg>> } {
  const history = new TimelineStore<StoredMessage<Msg>>({ backend, table: uniqueTable('rel_store') });
  const inbox = new TimelineStore<InboxMessage<Msg>>({ backend, table: uniqueTable('rel_sync'), ttlSeconds: 7 * 86_400 });
  const now = options.now ?? tickingClock();
  const messenger = new Messenger<Msg>({
    store: new StoreTimeline(history),
    sync: new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET, now }),
    largeGroupThreshold: options.largeGroupThreshold ?? Number.POSITIVE_INFINITY,
    largeGroupsOf: options.largeGroupsOf ?? (() => []),
    now,
    ...(options.dedupeWindow === undefined ? {} : { dedupeWindow: options.dedupeWindow }),
    ...(options.journal === undefined ? {} : { journal: options.journal }),
  });
  return { messenger, history, inbox };
}

/** A memory backend with TableStore-like limits (200-row batches) and small scan pages. */
export function memoryBackend(now?: () => number): MemoryBackend {
  return new MemoryBackend({ maxBatchRows: 200, maxScanPageRows: 50, ...(now === undefined ? {} : { now }) });
}

/** One stored row as the raw SDK sees it, with the backend's write id. */
export interface RawRow {
  readonly timelineId: string;
  readonly seq: bigint;
  readonly writeId: string | undefined;
  readonly messageId: string | undefined;
}

/**
 * Every row of a table, read behind the backend's back with a raw SDK client (no faults should be
 * active): what is really stored, including the `write_id` column the backend never returns.
 */
export async function rawRows(emu: Pick<Emulator, 'clientConfig' | 'accessKeySecret'>, table: string): Promise<RawRow[]> {
  const { loadTableStoreSdk } = await import('../../src/backends/tablestore/load-sdk.js');
  const { toBigInt } = await import('../../src/backends/tablestore/row-layout.js');
  const sdk = await loadTableStoreSdk();
  const client = new sdk.Client({ ...emu.clientConfig(), accessKeySecret: emu.accessKeySecret, maxRetries: 0 } as never);
  const rows: RawRow[] = [];
  let start: unknown = [{ timeline_id: sdk.INF_MIN }, { seq_id: sdk.INF_MIN }];
  for (;;) {
    const page = await client.getRange({
      tableName: table,
      direction: sdk.Direction.FORWARD,
      inclusiveStartPrimaryKey: start,
      exclusiveEndPrimaryKey: [{ timeline_id: sdk.INF_MAX }, { seq_id: sdk.INF_MAX }],
      maxVersions: 1,
      columnsToGet: ['write_id', 'message_id'],
    });
    for (const row of page.rows ?? []) {
      const pk = row.primaryKey ?? [];
      const attribute = (name: string): string | undefined => row.attributes?.find((a) => a.columnName === name)?.columnValue as string | undefined;
      rows.push({ timelineId: String(pk[0]?.value), seq: toBigInt(pk[1]?.value), writeId: attribute('write_id'), messageId: attribute('message_id') });
    }
    const next = page.nextStartPrimaryKey;
    if (next === undefined || next === null || next.length === 0) return rows;
    start = next.map((cell) => ({ [cell.name]: cell.value }));
  }
}
