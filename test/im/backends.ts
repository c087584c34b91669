// The backends every IM scenario runs on. Add a factory here (e.g. the TableStore backend against
// the emulator) and every test in test/im runs on it too.
//
// A factory's backend must take its TTL clock from the harness (`now`/`advance`), so that tests
// move time instead of sleeping. Scenarios create their own uniquely named tables and never
// assume consecutive seqs, exact TTL or memory-only behaviour.
import { randomBytes } from 'node:crypto';
import { MemoryBackend, type TimelineBackend } from '../../src/index.js';
import { SparseSeqBackend } from './wrappers.js';
import { startEmulator } from '../../src/emulator/index.js';
import { TableStoreBackend, createRetryStrategy } from '../../src/backends/tablestore/index.js';

/** One backend instance under test, with its clock. */
export interface TestBackend {
  /** The backend; it may be shared by several stores (tables) of one test file. */
  readonly backend: TimelineBackend;
  /** The clock the backend expires entries by, in milliseconds since the epoch. Pass it as `now` to the IM helpers. */
  readonly now: () => number;
  /** Moves the clock forward. */
  readonly advance: (ms: number) => void;
  /** Releases the backend (and any server behind it). */
  readonly close: () => Promise<void>;
}

/** Creates a {@link TestBackend}. */
export interface BackendFactory {
  readonly name: string;
  create(): Promise<TestBackend>;
}

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.UTC(2025, 0, 1);
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Every backend the IM scenarios run on. */
export const backendFactories: readonly BackendFactory[] = [
  {
    name: 'memory',
    async create() {
      const { now, advance } = clock();
      const backend = new MemoryBackend({ now });
      return { backend, now, advance, close: () => backend.close() };
    },
  },
  {
    // TableStore's batch limit, small scan pages, and sparse seqs above 2^53.
    name: 'memory (sparse seqs, 200-row batches, 50-row pages)',
    async create() {
      const { now, advance } = clock();
      const backend = new SparseSeqBackend(new MemoryBackend({ now, maxBatchRows: 200, maxScanPageRows: 50 }));
      return { backend, now, advance, close: () => backend.close() };
    },
  },
  // The production backend over HTTP to the emulator, whose TTL clock is ours, on both transports:
  // the official SDK's client and the library's wire path (the default).
  ...(['wire', 'sdk'] as const).map((transport) => ({
    name: transport === 'sdk' ? 'tablestore (emulator)' : 'tablestore (emulator, wire transport)',
    async create() {
      const { now, advance } = clock();
      const emu = await startEmulator({ port: 0, clock: now });
      const backend = new TableStoreBackend({
        ...emu.connection(),
        transport,
        retryStrategy: createRetryStrategy({ budgetMs: 2000, baseDelayMs: 1, maxDelayMs: 20 }),
      });
      return {
        backend,
        now,
        advance,
        close: async () => {
          await backend.close();
          await emu.close();
        },
      };
    },
  })),
];

/** A table name no other test uses, so that a shared backend needs no cleanup. */
export function uniqueTable(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
