import type {
  AppendRow,
  AppendRowResult,
  BackendAppendOptions,
  BackendCapabilities,
  EnsureTableOptions,
  ScanPage,
  ScanPageRequest,
  StoredRow,
  TableDescription,
  TableSpec,
  TimelineBackend,
} from '../core/backend.js';

/**
 * A backend that passes every call to another one: extend it and override only the methods a test
 * needs to observe or disturb (count requests, inject faults, remap seqs, hold calls), or pass
 * `capabilities` to change what the wrapper declares.
 *
 * @example
 * ```ts
 * class CountingBackend extends PassThroughBackend {
 *   appends = 0;
 *   override append(...args: Parameters<TimelineBackend['append']>) {
 *     this.appends += 1;
 *     return super.append(...args);
 *   }
 * }
 * const backend = new CountingBackend(new MemoryBackend());
 * ```
 */
export class PassThroughBackend implements TimelineBackend {
  /** The wrapped backend. */
  readonly inner: TimelineBackend;
  readonly #capabilities: Partial<BackendCapabilities> | undefined;
  // The merged declaration, rebuilt only when the inner backend declares a new object.
  #merged: { from: unknown; value: Partial<BackendCapabilities> } | undefined;

  /**
   * @param inner the backend every call goes to.
   * @param capabilities declared instead of the inner backend's, field by field; default: the
   *   inner backend's, read on every access.
   */
  constructor(inner: TimelineBackend, capabilities?: Partial<BackendCapabilities>) {
    this.inner = inner;
    this.#capabilities = capabilities;
  }

  /** The inner backend's capabilities, overridden by those given to the constructor. */
  get capabilities(): Partial<BackendCapabilities> | undefined {
    const declared = this.inner.capabilities;
    if (this.#capabilities === undefined) return declared;
    if (this.#merged === undefined || this.#merged.from !== declared) {
      this.#merged = { from: declared, value: Object.freeze({ ...declared, ...this.#capabilities }) };
    }
    return this.#merged.value;
  }

  /** The inner backend's keyed records (undefined when it has none). */
  get records(): TimelineBackend['records'] {
    return this.inner.records;
  }

  /** The inner backend's in-place update and delete (undefined when it has none). */
  get mutations(): TimelineBackend['mutations'] {
    return this.inner.mutations;
  }

  /** Calls the inner backend's `ensureTable`. */
  ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    return this.inner.ensureTable(spec, options);
  }

  /** Calls the inner backend's `append`. */
  append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    return this.inner.append(table, rows, options);
  }

  /** Calls the inner backend's `get`. */
  get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    return this.inner.get(table, timelineId, seq, options);
  }

  /** Calls the inner backend's `scan`. */
  scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    return this.inner.scan(table, request);
  }

  /** Calls the inner backend's `close`. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
