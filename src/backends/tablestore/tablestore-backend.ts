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
} from '../../core/backend.js';
import type { EntryMutations } from '../../core/mutations.js';
import { Appender } from './append.js';
import { tableStoreMutations } from './mutations.js';
import { resolveOptions, type TableStoreBackendOptions } from './options.js';
import { getRow, scanPage } from './reads.js';
import { TableStoreRecords } from './records.js';
import type { TableStoreColumns } from './row-layout.js';
import { Runtime } from './runtime.js';
import { ensureTableLayout, type TableLayout } from './tables.js';

/**
 * The production backend: timelines in Alibaba Cloud TableStore tables keyed
 * `(timeline_id STRING, seq_id INTEGER AUTO_INCREMENT)`. Requests go through the library's own
 * wire path by default (the same bytes, headers and signature as the official `tablestore` SDK,
 * at about a third of its client CPU), or through the SDK's client with `transport: 'sdk'` or a
 * given `client`. The SDK is an optional peer dependency, loaded when the backend is first used,
 * on either transport (its constants and retry rules are the reference).
 *
 * - Seqs come from TableStore's auto-increment column: exact 64-bit values, increasing per
 *   timeline, not consecutive.
 * - One row is written with PutRow, several with BatchWriteRow; only the rows that failed with a
 *   retryable error are re-sent, under `retryStrategy`.
 * - A write whose outcome is unknown (timeout, dropped connection, 5xx) is settled by looking for
 *   the row's unique write id at the timeline's tail before anything is re-sent: no silent
 *   duplicate, no silent loss (docs/guarantees.md).
 * - Reads retry timeouts, 5xx and network errors too. The SDK's lost error codes are decoded, and
 *   every failure is a `BackendError` with `backendCode`, `status`, `requestId` and `retryable`.
 * - An endpoint that refuses the first connection of an operation, or whose TLS certificate the
 *   handshake refuses, fails it at once, with a message naming the endpoint, instead of being
 *   retried for the whole budget.
 *
 * - `records`: keyed records with conditional writes (the `RecordBackend` capability).
 *
 * The parts live in files of their own: options, the shared runtime, request plumbing, table
 * admin, reads, the write loop (append, send, settle, batch order), and records.
 *
 * @example
 * ```ts
 * import { TimelineStore } from 'tablestore-timeline';
 * import { TableStoreBackend } from 'tablestore-timeline/tablestore';
 *
 * const backend = new TableStoreBackend({
 *   endpoint: 'https://my-instance.cn-hangzhou.ots.aliyuncs.com',
 *   instanceName: 'my-instance',
 *   accessKeyId: process.env.TABLESTORE_ACCESS_KEY_ID!,
 *   accessKeySecret: process.env.TABLESTORE_ACCESS_KEY_SECRET!,
 * });
 * const inbox = new TimelineStore<{ text: string }>({ backend, table: 'im_sync', ttlSeconds: 7 * 86400 });
 * await inbox.init(); // creates the table, or checks its layout and TTL
 * const entry = await inbox.timeline('user:bob').append({ text: 'hi' }, { messageId: 'm-1' });
 * await backend.close();
 * ```
 */
export class TableStoreBackend implements TimelineBackend {
  readonly #rt: Runtime;
  readonly #appender: Appender;
  readonly #layout: TableLayout;
  /**
   * Keyed records with conditional writes, in record tables of their own (see
   * {@link TableStoreRecords}): the send journal and other state beside the timelines.
   */
  readonly records: TableStoreRecords;
  /**
   * In-place update (GetRow, then UpdateRow with EXPECT_EXIST: never an upsert) and delete
   * (DeleteRow) of timeline entries: the `mutations` capability.
   */
  readonly mutations: EntryMutations;

  /**
   * The SDK is loaded, and the client created, when the backend is first used: a missing
   * `tablestore` package surfaces then (e.g. from `store.init()`) as a `TimelineError` with code
   * `MISSING_DEPENDENCY`.
   *
   * @throws {ValidationError} for missing or conflicting connection settings, or invalid options.
   */
  constructor(options: TableStoreBackendOptions) {
    this.#rt = new Runtime(resolveOptions(options));
    this.#appender = new Appender(this.#rt);
    this.records = new TableStoreRecords(this.#rt);
    this.mutations = tableStoreMutations(this.#rt);
    const columns = this.#rt.columns;
    this.#layout = {
      kind: 'a timeline table',
      option: 'columns',
      primaryKey: [
        { name: columns.timelineId, type: 'STRING' },
        { name: columns.seq, type: 'INTEGER', autoIncrement: true },
      ],
    };
  }

  /**
   * What this backend can do: 200 rows and just under 4 MB per append request, messages up to
   * 4,000,000 bytes, 5000 rows per scan page, exact TTL at read time, and `orderedBatches` as
   * configured (it turns false if the service is ever seen breaking batch order).
   */
  get capabilities(): BackendCapabilities {
    return this.#rt.capabilities;
  }

  /** The column names in use, defaults filled in. */
  get columns(): Readonly<Required<TableStoreColumns>> {
    return this.#rt.columns;
  }

  /**
   * Creates the table if it is missing (`(timeline_id STRING, seq_id INTEGER AUTO_INCREMENT)`,
   * max versions 1, the spec's TTL); for an existing table, verifies the primary key and
   * reconciles the TTL. An existing table's TTL is changed only with `onTtlMismatch: 'update'`;
   * by default (`'error'`) a mismatch rejects and the table is left as it is. A new table can
   * take a moment before it serves requests on the real service; the resulting
   * `OTSTableNotReady` errors are retried.
   *
   * @throws {TableIncompatibleError} when the existing table's primary key differs, or its TTL differs and `onTtlMismatch` is not `'update'`.
   * @throws {BackendError} when the service fails.
   */
  async ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    const ctx = this.#rt.context('ensureTable', spec.table, undefined, options?.signal);
    return this.#rt.track(ctx, () => ensureTableLayout(this.#rt, ctx, this.#layout, spec, options));
  }

  /**
   * Reads one entry with GetRow. Undefined when the row is absent or expired.
   * @throws {BackendError} when the service fails (after retries of retryable errors).
   * @throws {AbortedError} when `options.signal` fires.
   */
  async get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    const ctx = this.#rt.context('get', table, timelineId, options?.signal);
    return this.#rt.track(ctx, () => getRow(this.#rt, ctx, timelineId, seq));
  }

  /**
   * Reads one page of a timeline with GetRange, forward or backward, at most `limit` (≤ 5000)
   * rows. `next` is the inclusive start of the following page, taken from the service's
   * `nextStartPrimaryKey`; a page may hold fewer rows than asked while `next` is set.
   *
   * @throws {BackendError} when the service fails (after retries of retryable errors).
   * @throws {AbortedError} when `request.signal` fires.
   */
  async scan(table: string, request: ScanPageRequest): Promise<ScanPage> {
    const ctx = this.#rt.context('scan', table, request.timelineId, request.signal);
    return this.#rt.track(ctx, () => scanPage(this.#rt, ctx, request));
  }

  /**
   * Appends rows: one with PutRow, several with BatchWriteRow (split again here if a caller
   * passes more than 200 rows or 4 MB). Resolves with one result per row, in input order. Rows
   * that fail with a retryable code are re-sent under `retryStrategy`; rows with other codes fail
   * at once. A row whose write is ambiguous is looked up at the timeline's tail by its write id
   * before it is re-sent; if that cannot be settled it fails with a `WriteUncertainError`.
   *
   * `options.signal` stops further attempts (requests already sent are not abandoned: their
   * outcome decides the row's result).
   *
   * @throws {ClosedError} when the backend is closed.
   */
  async append(table: string, rows: readonly AppendRow[], options?: BackendAppendOptions): Promise<AppendRowResult[]> {
    const ctx = this.#rt.context('append', table, undefined, options?.signal);
    if (rows.length === 0) return [];
    return this.#rt.track(ctx, () => this.#appender.append(ctx, rows));
  }

  /**
   * Releases the backend: later calls reject with a `ClosedError`. Calls in flight finish their
   * current request; they make no further attempt (rows not yet written fail with a
   * `ClosedError`, rows whose outcome is unknown with a `WriteUncertainError`). Closes the HTTP
   * agent of a client this backend created; a client passed in is left open. Idempotent.
   */
  async close(): Promise<void> {
    return this.#rt.close();
  }
}
