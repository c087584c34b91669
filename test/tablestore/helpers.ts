/**
 * Shared set-up of the TableStore backend tests: an in-process emulator over real HTTP, a backend
 * with a tiny retry budget (so failure tests stay fast), and a raw SDK client for arranging state
 * behind the backend's back.
 */
import { randomUUID } from 'node:crypto';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { TableStoreBackend, createRetryStrategy, type TableStoreBackendOptions } from '../../src/backends/tablestore/index.js';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';
import type { TableStoreClientLike, TableStoreSdk } from '../../src/backends/tablestore/sdk-types.js';

/** A unique table name. */
export const tableName = (): string => `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

/** A unique timeline id. */
export const timelineId = (prefix = 'tl'): string => `${prefix}:${randomUUID()}`;

/** Encodes a string payload. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Decodes a string payload. */
export const text = (payload: Uint8Array): string => new TextDecoder().decode(payload);

/** An emulator and a backend connected to it. */
export interface Harness {
  readonly emu: Emulator;
  readonly backend: TableStoreBackend;
  /** The SDK module, for raw clients and constants. */
  readonly sdk: TableStoreSdk;
  /** A raw SDK client on the same emulator (SDK retries off). */
  readonly client: TableStoreClientLike;
  /** A new backend on the same emulator with other options. */
  another(options?: Partial<TableStoreBackendOptions>): TableStoreBackend;
  close(): Promise<void>;
}

/** Starts an emulator and a backend with a fast retry policy (budget 1 s unless overridden). */
export async function harness(options: Partial<TableStoreBackendOptions> = {}, emulatorOptions: EmulatorOptions = {}): Promise<Harness> {
  const emu = await startEmulator({ port: 0, ...emulatorOptions });
  const sdk = await loadTableStoreSdk();
  const make = (extra: Partial<TableStoreBackendOptions> = {}): TableStoreBackend =>
    new TableStoreBackend({
      ...emu.connection(),
      retryStrategy: createRetryStrategy({ budgetMs: 1000, baseDelayMs: 1, maxDelayMs: 10 }),
      ...extra,
    });
  const backends: TableStoreBackend[] = [];
  const backend = make(options);
  backends.push(backend);
  const client = new sdk.Client({ ...emu.clientConfig(), accessKeySecret: emu.accessKeySecret, maxRetries: 0 });
  return {
    emu,
    backend,
    sdk,
    client,
    another: (extra) => {
      const b = make({ ...options, ...extra });
      backends.push(b);
      return b;
    },
    close: async () => {
      await Promise.all(backends.map((b) => b.close()));
      await emu.close();
    },
  };
}

/** Number of requests the emulator received for an API. */
export const requests = (emu: Emulator, api: string): number => emu.stats().requests[api] ?? 0;

/** Collects an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * A look-alike `TableStore.Client` for behaviour the emulator cannot provoke: every method rejects
 * with "not expected" unless given in `methods`.
 */
export function fakeClient(methods: Partial<Record<keyof TableStoreClientLike, (params: Record<string, unknown>) => Promise<unknown>>>): TableStoreClientLike {
  const unused = (): Promise<never> => Promise.reject(new Error('not expected'));
  const names = ['createTable', 'describeTable', 'updateTable', 'putRow', 'deleteRow', 'batchWriteRow', 'getRow', 'getRange'] as const;
  return Object.fromEntries(names.map((name) => [name, methods[name] ?? unused])) as unknown as TableStoreClientLike;
}
