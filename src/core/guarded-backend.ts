import type {
  AppendRow,
  AppendRowResult,
  BackendAppendOptions,
  EnsureTableOptions,
  ScanPage,
  ScanPageRequest,
  StoredRow,
  TableDescription,
  TableSpec,
  TimelineBackend,
} from './backend.js';
import { resolveCapabilities, type ResolvedCapabilities } from './capabilities.js';
import { describeError } from './describe.js';
import { AbortedError, BackendError, ClosedError, TimelineError, WriteUncertainError } from './errors.js';
import { guardRecords } from './guarded-records.js';
import type { EntryMutations, MutationCallOptions } from './mutations.js';
import type { RecordBackend } from './records.js';

/**
 * The runtime wrapper the core puts around every backend, so that no backend re-implements the
 * checks every backend needs:
 *
 * - capabilities: every field the backend leaves out takes its default (`DEFAULT_CAPABILITIES`);
 * - closed: after {@link GuardedBackend.close} (idempotent; the inner `close` runs once) every
 *   call rejects with a `ClosedError`;
 * - aborted: a call whose `signal` has already fired rejects with an `AbortedError` without
 *   reaching the backend;
 * - errors: anything the backend throws that is not a `TimelineError` becomes a `BackendError`
 *   with the original as `cause`;
 * - results: an `append` that answers a different number of results than rows rejects with a
 *   `WriteUncertainError` (which rows were written is unknown).
 *
 * `TimelineStore` wraps the backend it is given (a `GuardedBackend` is used as is). Wrap a custom
 * backend yourself to share the closed state: `const backend = new GuardedBackend(myBackend)`.
 *
 * @example
 * ```ts
 * const backend = new GuardedBackend({
 *   capabilities: { name: 'sqlite', orderedBatches: true },
 *   async ensureTable(spec) { ... },
 *   async append(table, rows) { ... },
 *   async get(table, timelineId, seq) { ... },
 *   async scan(table, request) { ... },
 *   async close() { db.close(); },
 * });
 * ```
 */
export class GuardedBackend implements TimelineBackend {
  readonly #inner: TimelineBackend;
  #closing: Promise<void> | undefined;
  #records: RecordBackend | undefined;
  #mutations: EntryMutations | undefined;

  /** Wraps `inner`; pass a backend object that implements the five methods of `TimelineBackend`. */
  constructor(inner: TimelineBackend) {
    this.#inner = inner;
  }

  /** `backend` itself when it is already guarded, else a new wrapper around it. */
  static wrap(backend: TimelineBackend): GuardedBackend {
    return backend instanceof GuardedBackend ? backend : new GuardedBackend(backend);
  }

  /** The inner backend's capabilities, with defaults filled in; read anew on every access. */
  get capabilities(): ResolvedCapabilities {
    return resolveCapabilities(this.#inner);
  }

  /**
   * The inner backend's keyed records under the same rules (closed, aborted, errors), or undefined
   * when it has none.
   */
  get records(): RecordBackend | undefined {
    const inner = this.#inner.records;
    if (inner === undefined) return undefined;
    this.#records ??= guardRecords(inner, (operation, table, signal, run) => this.#call(operation, table, undefined, signal, run));
    return this.#records;
  }

  /**
   * The inner backend's in-place update and delete under the same rules (closed, aborted, errors),
   * or undefined when it has none.
   */
  get mutations(): EntryMutations | undefined {
    const inner = this.#inner.mutations;
    if (inner === undefined) return undefined;
    this.#mutations ??= {
      update: (table: string, timelineId: string, seq: bigint, payload: Uint8Array, options?: MutationCallOptions) =>
        this.#call('update', table, timelineId, options?.signal, () => inner.update(table, timelineId, seq, payload, options)),
      delete: (table: string, timelineId: string, seq: bigint, options?: MutationCallOptions) =>
        this.#call('delete', table, timelineId, options?.signal, () => inner.delete(table, timelineId, seq, options)),
    };
    return this.#mutations;
  }

  /** True after {@link GuardedBackend.close}. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** @inheritDoc */
  ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    // Named 'init', the operation users call: ensureTable runs only under `TimelineStore.init`.
    return this.#call('init', spec.table, undefined, options?.signal, () => this.#inner.ensureTable(spec, options));
  }

  /** @inheritDoc */
  async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    const results = await this.#call('append', table, undefined, options?.signal, () => this.#inner.append(table, rows, options));
    if (!Array.isArray(results) || results.length !== rows.length) {
      const count = Array.isArray(results) ? results.length : 0;
      // Results that do not line up with the rows cannot say which row was written.
      throw new WriteUncertainError(`the ${this.capabilities.name} backend answered ${count} results for ${rows.length} rows; whether each row was written is unknown`, {
        operation: 'append',
        table,
      });
    }
    return results;
  }

  /** @inheritDoc */
  get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    return this.#call('get', table, timelineId, options?.signal, () => this.#inner.get(table, timelineId, seq, options));
  }

  /** @inheritDoc */
  scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    return this.#call('scan', table, request.timelineId, request.signal, () => this.#inner.scan(table, request));
  }

  /** Closes the inner backend once; later calls reject with a `ClosedError`. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.resolve().then(() => this.#inner.close());
    return this.#closing;
  }

  async #call<R>(operation: string, table: string, timelineId: string | undefined, signal: AbortSignal | undefined, run: () => Promise<R>): Promise<R> {
    if (this.#closing !== undefined) throw new ClosedError(`the ${this.capabilities.name} backend`, where(operation, table, timelineId));
    if (signal?.aborted) throw new AbortedError({ ...where(operation, table, timelineId), cause: signal.reason });
    try {
      return await run();
    } catch (error) {
      if (error instanceof TimelineError) throw error;
      if (error instanceof Error && error.name === 'AbortError') throw new AbortedError({ ...where(operation, table, timelineId), cause: error });
      throw new BackendError(`${operation} on table ${table} failed in the ${this.capabilities.name} backend: ${describeError(error)}`, {
        ...where(operation, table, timelineId),
        cause: error,
      });
    }
  }
}

// The error context of a call, made only when an error needs it (every backend call passes here).
function where(operation: string, table: string, timelineId: string | undefined): { operation: string; table: string; timelineId?: string } {
  return timelineId === undefined ? { operation, table } : { operation, table, timelineId };
}
