import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import createDebug from 'debug';
import pLimit from 'p-limit';
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
import {
  AbortedError,
  BackendError,
  ClosedError,
  TableIncompatibleError,
  TimelineError,
  ValidationError,
  WriteUncertainError,
} from '../../core/errors.js';
import { checkOptionsObject, checkPositiveInteger } from '../../core/validate.js';
import { decodeSdkError, classifyCode, readKind, type DecodedError, type ErrorKind } from './errors.js';
import { loadTableStoreSdk } from './load-sdk.js';
import { createRetryStrategy, pause, type RetryStrategy } from './retry.js';
import {
  attributeColumns,
  parseRow,
  primaryKey,
  requestRowBytes,
  resolveColumns,
  rowOverheadBytes,
  seqOfPrimaryKey,
  toSdkLong,
  type ResolvedColumns,
  type TableStoreColumns,
} from './row-layout.js';
import type { SdkClientConfig, TableStoreClientLike, TableStoreSdk } from './sdk-types.js';

const log = createDebug('tablestore-timeline:tablestore');

/** TableStore's row limit for one BatchWriteRow. */
const MAX_BATCH_ROWS = 200;
/** TableStore's 4 MB request limit, minus room for protobuf framing and the table name. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024;
/** Largest encoded message: fits one 4 MB PutRow with the largest ids and the row's framing. */
const MAX_MESSAGE_BYTES = 4_000_000;
/** TableStore's row limit for one GetRange page. */
const MAX_SCAN_ROWS = 5000;
/**
 * The service refuses requests whose `x-ots-date` is more than 15 minutes off its clock, so a row
 * written by a request sent at local time T carries a cell timestamp after T - 15 min.
 */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** Timelines whose tail is checked at once after an ambiguous batch. */
const RESOLVE_CONCURRENCY = 8;
/** Message ids remembered after a WriteUncertainError, so that a re-send checks before writing. */
const MAX_UNCERTAIN_KEYS = 10_000;
/** Node's longest timer, in ms: a longer socket timeout is truncated to it, with a warning. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** DescribeTable's `table_status` for a table in service. */
const TABLE_ACTIVE = 1;

/**
 * Options of {@link TableStoreBackend}: either an existing SDK `client`, or the four connection
 * settings (`endpoint`, `instanceName`, `accessKeyId`, `accessKeySecret`, optionally `stsToken`).
 */
export interface TableStoreBackendOptions {
  /**
   * An existing `TableStore.Client` (from the `tablestore` package). When given, the connection
   * settings below are not allowed and the client's configuration is left as it is: give it an
   * `httpOptions.timeout` and a small `maxRetries` (see docs/backends.md).
   */
  client?: unknown;
  /** Instance endpoint, e.g. `'https://my-instance.cn-hangzhou.ots.aliyuncs.com'`. */
  endpoint?: string;
  /** Instance name. */
  instanceName?: string;
  /** AccessKey id. */
  accessKeyId?: string;
  /** AccessKey secret. */
  accessKeySecret?: string;
  /** STS security token, for temporary credentials. */
  stsToken?: string;
  /**
   * Per-request timeout, in milliseconds, of the client this backend creates (the SDK has none,
   * so a stalled server would hang the caller). A write that times out is settled by reading
   * the timeline's tail (see docs/guarantees.md).
   * @default 10000
   */
  requestTimeoutMs?: number;
  /**
   * The SDK's own `maxRetries` for the client this backend creates. The SDK retries only reads,
   * only on 5xx and network errors, and keeps the setting **process-wide** (the last client to
   * send a request sets it for all). This backend retries by itself under `retryStrategy`, so 0
   * avoids stacking a second, slower retry loop (the SDK's default of 20 stalls ~40 s).
   * @default 0
   */
  sdkMaxRetries?: number;
  /**
   * When and how long to wait before retrying a request the service defines as retryable.
   * @default createRetryStrategy() — 10 ms doubling to 320 ms, jittered, within 10 s in total
   */
  retryStrategy?: RetryStrategy;
  /** Column names of the tables. Defaults: `timeline_id`, `seq_id`, `payload`, `message_id`, `write_id`. */
  columns?: TableStoreColumns;
  /**
   * Whether to declare `orderedBatches`, i.e. trust that the service numbers the rows of one
   * timeline within one BatchWriteRow in request order. TableStore does not document it; when
   * true the backend checks every answer, never re-sends a row behind a later row of the same
   * timeline, and falls back to `false` for good if it ever sees the order broken. When false,
   * `Timeline.appendMany` writes one row per request (see docs/backends.md).
   * @default false
   */
  orderedBatches?: boolean;
  /**
   * How many of a timeline's newest rows are read, at most, to find out whether an ambiguous
   * write (timeout, dropped connection, 5xx) was applied. Beyond it the write is reported as a
   * `WriteUncertainError`.
   * @default 5000
   */
  ambiguityWindowRows?: number;
}

/** Per-row state of one append call. */
interface Slot {
  readonly index: number;
  readonly row: AppendRow;
  readonly writeId: string;
  readonly bytes: number;
  /** Write ids that count as this row (its own, and those of earlier uncertain sends of the same message id). */
  readonly lookFor: string[];
  state: 'pending' | 'ambiguous' | 'done';
  result?: AppendRowResult;
  lastError?: BackendError;
  /** Local time of the first send that may have applied the row. */
  sentAt?: number;
}

interface OperationContext {
  readonly operation: string;
  readonly table: string;
  readonly timelineId?: string;
  readonly signal?: AbortSignal | undefined;
  /** Start of the operation (after the SDK is loaded); the retry budget counts from it. */
  startedAt: number;
}

/** An SDK call failed; carries the decoded error to the retry loops. */
class SdkFailure extends Error {
  readonly decoded: DecodedError;
  constructor(decoded: DecodedError, cause: unknown) {
    super(decoded.message, { cause });
    this.decoded = decoded;
  }
}

/**
 * The production backend: timelines in Alibaba Cloud TableStore tables keyed
 * `(timeline_id STRING, seq_id INTEGER AUTO_INCREMENT)`, through the official `tablestore` SDK
 * (an optional peer dependency, loaded when the backend is first used).
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
  /** The loaded SDK and the client, set on first use. */
  #connection: { sdk: TableStoreSdk; client: TableStoreClientLike } | undefined;
  #connecting: Promise<void> | undefined;
  readonly #givenClient: TableStoreClientLike | undefined;
  readonly #clientConfig: SdkClientConfig | undefined;
  readonly #agent: http.Agent | undefined;
  readonly #columns: ResolvedColumns;
  readonly #retryStrategy: RetryStrategy;
  readonly #windowRows: number;
  readonly #overhead: number;
  readonly #writeIdPrefix = randomBytes(9).toString('base64url');
  #writeIdCounter = 0;
  #capabilities: BackendCapabilities;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #closeController = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** (table, timeline, message id) of rows that ended in a WriteUncertainError → their write ids. */
  readonly #uncertain = new Map<string, { writeIds: string[]; sentAt: number }>();

  /**
   * The SDK is loaded, and the client created, when the backend is first used: a missing
   * `tablestore` package surfaces then (e.g. from `store.init()`) as a `TimelineError` with code
   * `MISSING_DEPENDENCY`.
   *
   * @throws {ValidationError} for missing or conflicting connection settings, or invalid options.
   */
  constructor(options: TableStoreBackendOptions) {
    const opts = checkOptionsObject(options, 'options') as TableStoreBackendOptions;
    this.#columns = resolveColumns(opts.columns === undefined ? undefined : (checkOptionsObject(opts.columns, 'options.columns') as TableStoreColumns));
    if (opts.retryStrategy !== undefined && typeof opts.retryStrategy !== 'function') {
      throw new ValidationError('options.retryStrategy', 'Expected `options.retryStrategy` to be a function ({ attempt, error, elapsedMs }) => delayMs | null');
    }
    this.#retryStrategy = opts.retryStrategy ?? createRetryStrategy();
    this.#windowRows = opts.ambiguityWindowRows === undefined ? 5000 : checkPositiveInteger(opts.ambiguityWindowRows, 'options.ambiguityWindowRows');
    if (opts.orderedBatches !== undefined && typeof opts.orderedBatches !== 'boolean') {
      throw new ValidationError('options.orderedBatches', `Expected \`options.orderedBatches\` to be a boolean, got ${typeof opts.orderedBatches}`);
    }
    const connection = ['endpoint', 'instanceName', 'accessKeyId', 'accessKeySecret', 'stsToken', 'requestTimeoutMs', 'sdkMaxRetries'] as const;
    if (opts.client !== undefined) {
      const given = connection.filter((key) => opts[key] !== undefined);
      if (given.length > 0) {
        throw new ValidationError(
          `options.${given[0]}`,
          `Pass either \`options.client\` or connection settings, not both (got \`options.client\` and \`${given.map((key) => `options.${key}`).join('`, `')}\`)`,
        );
      }
      const client = opts.client as Partial<TableStoreClientLike> | null;
      if (client === null || typeof client !== 'object' || typeof client.putRow !== 'function' || typeof client.getRange !== 'function') {
        throw new ValidationError('options.client', 'Expected `options.client` to be a `TableStore.Client` from the `tablestore` package');
      }
      this.#givenClient = client as TableStoreClientLike;
      this.#clientConfig = undefined;
      this.#agent = undefined;
    } else {
      for (const key of ['endpoint', 'instanceName', 'accessKeyId', 'accessKeySecret'] as const) {
        const value = opts[key];
        if (typeof value !== 'string' || value === '') {
          throw new ValidationError(`options.${key}`, `Expected \`options.${key}\` to be a non-empty string (or pass an existing \`options.client\`)`);
        }
      }
      if (!/^https?:\/\//.test(opts.endpoint!)) {
        throw new ValidationError('options.endpoint', `Expected \`options.endpoint\` to start with http:// or https://, got ${JSON.stringify(opts.endpoint)}`);
      }
      if (opts.stsToken !== undefined && typeof opts.stsToken !== 'string') {
        throw new ValidationError('options.stsToken', 'Expected `options.stsToken` to be a string');
      }
      const timeout = opts.requestTimeoutMs === undefined ? 10_000 : checkPositiveInteger(opts.requestTimeoutMs, 'options.requestTimeoutMs');
      if (timeout > MAX_TIMER_MS) {
        throw new ValidationError('options.requestTimeoutMs', `Expected \`options.requestTimeoutMs\` to be at most ${MAX_TIMER_MS} (Node's longest timer), got ${timeout}`);
      }
      const maxRetries = opts.sdkMaxRetries === undefined ? 0 : opts.sdkMaxRetries;
      if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
        throw new ValidationError('options.sdkMaxRetries', `Expected \`options.sdkMaxRetries\` to be an integer from 0 and up, got ${String(maxRetries)}`);
      }
      // An agent of our own, so that close() can release its keep-alive sockets.
      this.#agent = opts.endpoint!.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: 300 }) : new http.Agent({ keepAlive: true, maxSockets: 300 });
      const config: SdkClientConfig = {
        endpoint: opts.endpoint!,
        instancename: opts.instanceName!,
        accessKeyId: opts.accessKeyId!,
        accessKeySecret: opts.accessKeySecret!,
        maxRetries,
        httpOptions: { timeout, agent: this.#agent },
      };
      if (opts.stsToken !== undefined) config.stsToken = opts.stsToken;
      this.#givenClient = undefined;
      this.#clientConfig = config;
    }
    this.#overhead = rowOverheadBytes(this.#columns);
    this.#capabilities = this.#makeCapabilities(opts.orderedBatches ?? false);
    // Every operation waiting to retry listens to this signal (until its pause ends): under
    // throttling, many at once is normal, not the leak Node's default limit of 10 would report.
    setMaxListeners(0, this.#closeController.signal);
  }

  get #sdk(): TableStoreSdk {
    return this.#connection!.sdk;
  }

  get #client(): TableStoreClientLike {
    return this.#connection!.client;
  }

  /** Loads the SDK and creates the client, once; a failure is retried by the next call. */
  async #connect(): Promise<void> {
    if (this.#connection !== undefined) return;
    this.#connecting ??= (async () => {
      const sdk = await loadTableStoreSdk();
      const client = this.#givenClient ?? new sdk.Client(this.#clientConfig!);
      this.#connection = { sdk, client };
    })();
    try {
      await this.#connecting;
    } finally {
      if (this.#connection === undefined) this.#connecting = undefined;
    }
  }

  /**
   * What this backend can do: 200 rows and just under 4 MB per append request, messages up to
   * 4,000,000 bytes, 5000 rows per scan page, exact TTL at read time, and `orderedBatches` as
   * configured (it turns false if the service is ever seen breaking batch order).
   */
  get capabilities(): BackendCapabilities {
    return this.#capabilities;
  }

  /** The column names in use, defaults filled in. */
  get columns(): Readonly<Required<TableStoreColumns>> {
    return this.#columns;
  }

  #makeCapabilities(orderedBatches: boolean): BackendCapabilities {
    return Object.freeze({
      name: 'tablestore',
      maxBatchRows: MAX_BATCH_ROWS,
      maxBatchBytes: MAX_BATCH_BYTES,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      maxScanPageRows: MAX_SCAN_ROWS,
      // TableStore filters expired cells when reading, by their version timestamp (ms).
      ttlGranularitySeconds: 0,
      orderedBatches,
      rowOverheadBytes: this.#overhead,
      // The service's TTL range: at least one day, and a 32-bit field the SDK would wrap.
      minTtlSeconds: 86_400,
      maxTtlSeconds: 2 ** 31 - 1,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Tables

  /**
   * Creates the table if it is missing (`(timeline_id STRING, seq_id INTEGER AUTO_INCREMENT)`,
   * max versions 1, the spec's TTL); for an existing table, verifies the primary key and
   * reconciles the TTL. A new table can take a moment before it serves requests on the real
   * service; the resulting `OTSTableNotReady` errors are retried.
   *
   * @throws {TableIncompatibleError} when the existing table's primary key differs, or its TTL differs and `onTtlMismatch` is `'error'`.
   * @throws {BackendError} when the service fails.
   */
  async ensureTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    const ctx = this.#context('ensureTable', spec.table, undefined, options?.signal);
    return this.#track(ctx, async () => {
      let description = await this.#describe(ctx);
      let created = false;
      if (description === undefined) {
        try {
          await this.#request(ctx, () =>
            this.#client.createTable({
              tableMeta: {
                tableName: spec.table,
                primaryKey: [
                  { name: this.#columns.timelineId, type: 'STRING' },
                  { name: this.#columns.seq, type: 'INTEGER', option: 'AUTO_INCREMENT' },
                ],
              },
              reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
              tableOptions: { timeToLive: spec.ttlSeconds, maxVersions: 1 },
            }),
          );
          created = true;
          log('created table %s (ttl %d)', spec.table, spec.ttlSeconds);
        } catch (error) {
          // Another process created it first: verify theirs like any existing table.
          if (!(error instanceof BackendError && error.backendCode === 'OTSObjectAlreadyExist')) throw error;
        }
        description = await this.#describe(ctx);
        if (description === undefined) {
          throw new BackendError(`table ${spec.table} was created but DescribeTable does not find it`, { operation: 'ensureTable', table: spec.table, retryable: true });
        }
      }
      this.#verifyLayout(spec.table, description);
      // As above, an absent field would read as the prototype's 0: absent means the default, -1.
      const tableOptions = description.tableOptions;
      const ttl = tableOptions !== undefined && Object.hasOwn(tableOptions, 'timeToLive') && typeof tableOptions.timeToLive === 'number' ? tableOptions.timeToLive : -1;
      if (ttl === spec.ttlSeconds) return { table: spec.table, ttlSeconds: ttl, created, ttlUpdated: false };
      if ((options?.onTtlMismatch ?? 'update') === 'error') {
        throw new TableIncompatibleError(
          `table ${spec.table} has a TTL of ${ttl} seconds but the store expects ${spec.ttlSeconds}; pass onTtlMismatch: 'update' to change it`,
          { operation: 'init', table: spec.table },
        );
      }
      await this.#request(ctx, () => this.#client.updateTable({ tableName: spec.table, tableOptions: { timeToLive: spec.ttlSeconds } }));
      log('table %s: TTL changed from %d to %d seconds', spec.table, ttl, spec.ttlSeconds);
      return { table: spec.table, ttlSeconds: spec.ttlSeconds, created, ttlUpdated: true };
    });
  }

  async #describe(ctx: OperationContext): Promise<Awaited<ReturnType<TableStoreClientLike['describeTable']>> | undefined> {
    try {
      return await this.#request(ctx, () => this.#client.describeTable({ tableName: ctx.table }));
    } catch (error) {
      if (error instanceof BackendError && error.backendCode === 'OTSObjectNotExist') return undefined;
      throw error;
    }
  }

  #verifyLayout(table: string, description: Awaited<ReturnType<TableStoreClientLike['describeTable']>>): void {
    const pk = description.tableMeta?.primaryKey ?? [];
    const typeName = (type: number): string => ({ 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' })[type] ?? `type ${type}`;
    // protobufjs answers an absent optional enum with its first value (AUTO_INCREMENT) from the
    // prototype: only an own property says the column really is auto-increment.
    const autoIncrement = (c: object | undefined): boolean => c !== undefined && Object.hasOwn(c, 'option') && (c as { option?: unknown }).option === 1;
    const [first, second] = pk;
    const ok =
      pk.length === 2 &&
      first?.name === this.#columns.timelineId &&
      first.type === 2 &&
      !autoIncrement(first) &&
      second?.name === this.#columns.seq &&
      second.type === 1 &&
      autoIncrement(second);
    if (!ok) {
      const actual = pk.map((c) => `${c.name} ${typeName(c.type)}${autoIncrement(c) ? ' AUTO_INCREMENT' : ''}`).join(', ');
      throw new TableIncompatibleError(
        `table ${table} has the primary key (${actual}) but a timeline table needs (${this.#columns.timelineId} STRING, ${this.#columns.seq} INTEGER AUTO_INCREMENT); use another table name, or set the backend's \`columns\` to match`,
        { operation: 'init', table },
      );
    }
    if (description.tableStatus !== undefined && description.tableStatus !== TABLE_ACTIVE) {
      log('table %s is not active yet (status %d); requests will retry OTSTableNotReady', table, description.tableStatus);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * Reads one entry with GetRow. Undefined when the row is absent or expired.
   * @throws {BackendError} when the service fails (after retries of retryable errors).
   * @throws {AbortedError} when `options.signal` fires.
   */
  async get(table: string, timelineId: string, seq: bigint, options?: { signal?: AbortSignal }): Promise<StoredRow | undefined> {
    const ctx = this.#context('get', table, timelineId, options?.signal);
    return this.#track(ctx, async () => {
      const response = await this.#request(ctx, () =>
        this.#client.getRow({
          tableName: table,
          primaryKey: primaryKey(this.#columns, timelineId, toSdkLong(this.#sdk, seq)),
          maxVersions: 1,
        }),
      );
      const parsed = parseRow(response.row, this.#columns);
      return parsed !== undefined && parsed.row.timelineId === timelineId && parsed.row.seq === seq ? parsed.row : undefined;
    });
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
    const ctx = this.#context('scan', table, request.timelineId, request.signal);
    return this.#track(ctx, async () => {
      const { timelineId, direction, from, to } = request;
      const forward = direction === 'forward';
      // An empty range needs no request, and the service rejects a start beyond the end.
      if (from !== undefined && to !== undefined && (forward ? from >= to : from <= to)) return { rows: [] };
      const limit = Math.max(1, Math.min(Math.floor(request.limit), MAX_SCAN_ROWS));
      const sdk = this.#sdk;
      const start = from === undefined ? (forward ? sdk.INF_MIN : sdk.INF_MAX) : toSdkLong(sdk, from);
      const end = to === undefined ? (forward ? sdk.INF_MAX : sdk.INF_MIN) : toSdkLong(sdk, to);
      const response = await this.#request(ctx, () =>
        this.#client.getRange({
          tableName: table,
          direction: forward ? sdk.Direction.FORWARD : sdk.Direction.BACKWARD,
          inclusiveStartPrimaryKey: primaryKey(this.#columns, timelineId, start),
          exclusiveEndPrimaryKey: primaryKey(this.#columns, timelineId, end),
          limit,
          maxVersions: 1,
        }),
      );
      const rows: StoredRow[] = [];
      for (const sdkRow of response.rows ?? []) {
        const parsed = parseRow(sdkRow, this.#columns);
        if (parsed !== undefined && parsed.row.timelineId === timelineId) rows.push(parsed.row);
      }
      const next = this.#continuation(response.nextStartPrimaryKey, timelineId);
      return next === undefined ? { rows } : { rows, next };
    });
  }

  // `nextStartPrimaryKey` comes back as [{ name, value }]: take the seq of our own timeline.
  #continuation(cells: readonly { name: string; value: unknown }[] | null | undefined, timelineId: string): bigint | undefined {
    if (cells === undefined || cells === null || cells.length === 0) return undefined;
    const owner = cells.find((c) => c.name === this.#columns.timelineId);
    if (owner !== undefined && owner.value !== timelineId) return undefined;
    return seqOfPrimaryKey(cells, this.#columns);
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

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
    const ctx = this.#context('append', table, undefined, options?.signal);
    if (rows.length === 0) return [];
    return this.#track(ctx, () => this.#append(ctx, rows));
  }

  async #append(ctx: OperationContext, rows: readonly AppendRow[]): Promise<AppendRowResult[]> {
    const slots: Slot[] = rows.map((row, index) => {
      const writeId = `${this.#writeIdPrefix}.${(this.#writeIdCounter++).toString(36)}`;
      const slot: Slot = { index, row, writeId, bytes: requestRowBytes(this.#columns, this.#overhead, row), lookFor: [writeId], state: 'pending' };
      if (row.payload.byteLength > MAX_MESSAGE_BYTES) {
        this.#finish(slot, {
          ok: false,
          error: new ValidationError(`rows[${index}].payload`, `row ${index} is ${row.payload.byteLength} bytes, over the TableStore backend's limit of ${MAX_MESSAGE_BYTES} bytes per message`, {
            code: 'MESSAGE_TOO_LARGE',
            table: ctx.table,
            timelineId: row.timelineId,
          }),
        });
        return slot;
      }
      // A message that ended in a WriteUncertainError earlier: find out first whether it landed.
      const earlier = row.messageId === undefined || this.#uncertain.size === 0 ? undefined : this.#uncertain.get(this.#uncertainKey(ctx.table, row.timelineId, row.messageId));
      if (earlier !== undefined) {
        slot.lookFor.push(...earlier.writeIds);
        slot.sentAt = earlier.sentAt;
        slot.state = 'ambiguous';
      }
      return slot;
    });
    const ordered = this.#capabilities.orderedBatches;
    let failures = 0;
    let lastError: BackendError | undefined;
    let waitFirst = false;
    if (slots.some((s) => s.state === 'ambiguous')) {
      await this.#resolve(ctx, slots.filter((s) => s.state === 'ambiguous'));
    }
    for (;;) {
      if (ordered) this.#holdOrder(ctx, slots);
      if (waitFirst) {
        waitFirst = false;
        const open = slots.filter((s) => s.state !== 'done');
        if (open.length === 0) break;
        const error = lastError ?? open.find((s) => s.lastError)?.lastError;
        const delay = error === undefined ? 0 : this.#retryStrategy({ attempt: failures, error, elapsedMs: Date.now() - ctx.startedAt, operation: 'append' });
        let stop: TimelineError | undefined;
        if (delay === null) {
          stop = this.#exhausted(ctx, error!, failures);
        } else {
          if (delay > 0) log('append to %s: retrying %d rows in %d ms (attempt %d, %s)', ctx.table, open.length, delay, failures + 1, error?.backendCode);
          const completed = await pause(delay, this.#stopSignal(ctx.signal));
          if (!completed) stop = this.#interruption(ctx);
        }
        const ambiguous = slots.filter((s) => s.state === 'ambiguous');
        if (ambiguous.length > 0) {
          if (stop === undefined || (stop.code !== 'ABORTED' && stop.code !== 'CLOSED')) await this.#resolve(ctx, ambiguous);
          else for (const slot of ambiguous) this.#uncertainResult(ctx, slot, stop);
        }
        if (stop !== undefined) {
          for (const slot of slots) {
            if (slot.state !== 'pending') continue;
            // Each row reports its own last error; rows never sent share the one that stopped the call.
            const own = delay === null && slot.lastError !== undefined ? this.#exhausted(ctx, slot.lastError, failures) : stop;
            this.#finish(slot, { ok: false, error: own });
          }
          break;
        }
        if (ordered) this.#holdOrder(ctx, slots);
      }
      const chunk = this.#nextChunk(slots);
      if (chunk.length === 0) {
        if (slots.some((s) => s.state === 'ambiguous')) {
          waitFirst = true;
          continue;
        }
        break;
      }
      const stop = this.#closed || ctx.signal?.aborted ? this.#interruption(ctx) : undefined;
      if (stop !== undefined) {
        for (const slot of slots) {
          if (slot.state === 'pending') this.#finish(slot, { ok: false, error: stop });
          else if (slot.state === 'ambiguous') this.#uncertainResult(ctx, slot, stop);
        }
        break;
      }
      const failed = await this.#send(ctx, chunk);
      if (ordered) this.#checkOrder(ctx, slots);
      if (failed !== undefined) {
        failures++;
        lastError = failed;
        waitFirst = true;
      }
    }
    return slots.map((s) => s.result!);
  }

  // The next request: pending rows in input order, within the row and byte limits.
  #nextChunk(slots: readonly Slot[]): Slot[] {
    const chunk: Slot[] = [];
    let bytes = 0;
    for (const slot of slots) {
      if (slot.state !== 'pending') continue;
      if (chunk.length > 0 && (chunk.length >= MAX_BATCH_ROWS || bytes + slot.bytes > MAX_BATCH_BYTES)) {
        log('append: %d pending rows exceed one request; splitting', slots.filter((s) => s.state === 'pending').length);
        break;
      }
      chunk.push(slot);
      bytes += slot.bytes;
    }
    return chunk;
  }

  /** Sends one request; updates the slots. Returns the error that makes a retry pause necessary, if any. */
  async #send(ctx: OperationContext, chunk: readonly Slot[]): Promise<BackendError | undefined> {
    const sdk = this.#sdk;
    const sentAt = Date.now();
    const condition = new sdk.Condition(sdk.RowExistenceExpectation.IGNORE, null);
    const returnContent = { returnType: sdk.ReturnType.Primarykey };
    const request = (slot: Slot): Record<string, unknown> => ({
      condition,
      primaryKey: primaryKey(this.#columns, slot.row.timelineId, sdk.PK_AUTO_INCR),
      attributeColumns: attributeColumns(this.#columns, slot.row, slot.writeId),
      returnContent,
    });
    for (const slot of chunk) slot.sentAt ??= sentAt;
    let retryError: BackendError | undefined;
    const fail = (slot: Slot, decoded: DecodedError, cause: unknown): void => {
      const error = this.#backendError(ctx, decoded, cause, slot.row.timelineId);
      if (decoded.kind === 'fatal') {
        this.#finish(slot, { ok: false, error });
        return;
      }
      slot.lastError = error;
      retryError = error;
      if (decoded.kind === 'ambiguous') slot.state = 'ambiguous';
    };
    if (chunk.length === 1) {
      const slot = chunk[0]!;
      log('PutRow %s (timeline %s)', ctx.table, slot.row.timelineId);
      try {
        const response = await this.#call(() => this.#client.putRow({ tableName: ctx.table, ...request(slot) }));
        const seq = seqOfPrimaryKey(response.row?.primaryKey, this.#columns);
        if (seq === undefined) fail(slot, this.#noSeq(response.RequestId), undefined);
        else this.#succeed(ctx, slot, seq);
      } catch (error) {
        const decoded = error instanceof SdkFailure ? error.decoded : decodeSdkError(error);
        fail(slot, decoded, error instanceof SdkFailure ? error.cause : error);
      }
      return retryError;
    }
    log('BatchWriteRow %s: %d rows', ctx.table, chunk.length);
    let results: Awaited<ReturnType<TableStoreClientLike['batchWriteRow']>>['tables'];
    let requestId: string | undefined;
    try {
      const response = await this.#call(() =>
        this.#client.batchWriteRow({ tables: [{ tableName: ctx.table, rows: chunk.map((slot) => ({ type: 'PUT', ...request(slot) })) }] }),
      );
      results = response.tables ?? [];
      requestId = response.RequestId;
    } catch (error) {
      const decoded = error instanceof SdkFailure ? error.decoded : decodeSdkError(error);
      // The request failed as a whole: every row shares its fate.
      for (const slot of chunk) fail(slot, decoded, error instanceof SdkFailure ? error.cause : error);
      return retryError;
    }
    chunk.forEach((slot, i) => {
      const result = results?.[i];
      if (result === undefined) {
        fail(slot, { ...this.#noSeq(requestId), message: `BatchWriteRow answered ${results?.length ?? 0} results for ${chunk.length} rows` }, undefined);
      } else if (result.isOk) {
        const seq = seqOfPrimaryKey(result.primaryKey, this.#columns);
        if (seq === undefined) fail(slot, this.#noSeq(requestId), undefined);
        else this.#succeed(ctx, slot, seq);
      } else {
        const code = result.errorCode ?? 'UnknownError';
        const message = result.errorMessage ?? '';
        fail(slot, { code, message, status: undefined, requestId, kind: classifyCode(code, message), notSent: false }, undefined);
      }
    });
    const failedRows = chunk.filter((s) => s.state !== 'done' || !s.result?.ok).length;
    if (failedRows > 0) log('BatchWriteRow %s: %d of %d rows failed (%s)', ctx.table, failedRows, chunk.length, retryError?.backendCode ?? 'not retryable');
    return retryError;
  }

  // The service applied the row but its key did not come back: settle it like an ambiguous write.
  #noSeq(requestId: string | undefined): DecodedError {
    return { code: 'MissingPrimaryKey', message: 'the answer carried no primary key for the row', status: undefined, requestId, kind: 'ambiguous', notSent: false };
  }

  #succeed(ctx: OperationContext, slot: Slot, seq: bigint): void {
    this.#finish(slot, { ok: true, seq });
    if (slot.row.messageId !== undefined && slot.lookFor.length > 1) this.#uncertain.delete(this.#uncertainKey(ctx.table, slot.row.timelineId, slot.row.messageId));
  }

  #finish(slot: Slot, result: AppendRowResult): void {
    slot.state = 'done';
    slot.result = result;
  }

  /**
   * Settles ambiguous rows: reads each timeline's tail for their write ids. Found rows succeed
   * with the seq found; rows proven absent become pending (safe to re-send); the rest fail with a
   * WriteUncertainError.
   */
  async #resolve(ctx: OperationContext, ambiguous: readonly Slot[]): Promise<void> {
    const byTimeline = new Map<string, Slot[]>();
    for (const slot of ambiguous) {
      const list = byTimeline.get(slot.row.timelineId);
      if (list === undefined) byTimeline.set(slot.row.timelineId, [slot]);
      else list.push(slot);
    }
    const limit = pLimit(RESOLVE_CONCURRENCY);
    await Promise.all(
      [...byTimeline].map(([timelineId, group]) =>
        limit(async () => {
          const since = Math.min(...group.map((s) => s.sentAt ?? ctx.startedAt)) - MAX_CLOCK_SKEW_MS;
          let outcome: { found: Map<string, bigint>; conclusive: boolean };
          try {
            outcome = await this.#findWrites(ctx, timelineId, group.map((s) => s.lookFor), since);
          } catch (error) {
            for (const slot of group) this.#uncertainResult(ctx, slot, error);
            return;
          }
          for (const slot of group) {
            const seq = slot.lookFor.map((id) => outcome.found.get(id)).find((s) => s !== undefined);
            if (seq !== undefined) {
              log('append to %s: ambiguous write of timeline %s was applied (seq %s)', ctx.table, timelineId, seq);
              this.#succeed(ctx, slot, seq);
            } else if (outcome.conclusive) {
              log('append to %s: ambiguous write of timeline %s was not applied; re-sending', ctx.table, timelineId);
              if (slot.row.messageId !== undefined) this.#uncertain.delete(this.#uncertainKey(ctx.table, timelineId, slot.row.messageId));
              slot.state = 'pending';
            } else {
              this.#uncertainResult(ctx, slot, undefined);
            }
          }
        }),
      ),
    );
  }

  /**
   * Reads a timeline backward from its tail until one write id of every row (`idsPerRow`) is
   * found, the timeline's start is reached, rows older than `sinceMs` appear, or the window is used
   * up. `conclusive` is true when a missing id is proven absent.
   */
  async #findWrites(
    ctx: OperationContext,
    timelineId: string,
    idsPerRow: readonly (readonly string[])[],
    sinceMs: number,
  ): Promise<{ found: Map<string, bigint>; conclusive: boolean }> {
    const sdk = this.#sdk;
    const wanted = new Set(idsPerRow.flat());
    const found = new Map<string, bigint>();
    const allFound = (): boolean => idsPerRow.every((ids) => ids.some((id) => found.has(id)));
    const readCtx: OperationContext = { ...ctx, operation: 'append (checking an ambiguous write)', timelineId };
    let start: unknown = sdk.INF_MAX;
    let scanned = 0;
    while (scanned < this.#windowRows) {
      const response = await this.#request(readCtx, () =>
        this.#client.getRange({
          tableName: ctx.table,
          direction: sdk.Direction.BACKWARD,
          inclusiveStartPrimaryKey: primaryKey(this.#columns, timelineId, start),
          exclusiveEndPrimaryKey: primaryKey(this.#columns, timelineId, sdk.INF_MIN),
          limit: Math.min(1000, this.#windowRows - scanned),
          maxVersions: 1,
          columnsToGet: [this.#columns.writeId],
        }),
      );
      let older = false;
      for (const sdkRow of response.rows ?? []) {
        scanned++;
        const parsed = parseRow(sdkRow, this.#columns, { requirePayload: false });
        if (parsed === undefined) continue;
        if (parsed.writeId !== undefined && wanted.has(parsed.writeId)) found.set(parsed.writeId, parsed.row.seq);
        if (parsed.writtenAtMs !== undefined && parsed.writtenAtMs < sinceMs) older = true;
      }
      if (older || allFound()) return { found, conclusive: true };
      const next = this.#continuation(response.nextStartPrimaryKey, timelineId);
      if (next === undefined) return { found, conclusive: true };
      start = toSdkLong(sdk, next);
    }
    return { found, conclusive: false };
  }

  #uncertainResult(ctx: OperationContext, slot: Slot, cause: unknown): void {
    const last = slot.lastError;
    const reason =
      cause instanceof TimelineError
        ? `checking whether it was applied failed: ${cause.message}`
        : `it was not found among the newest ${this.#windowRows} rows of the timeline (raise \`ambiguityWindowRows\` to look further)`;
    const error = new WriteUncertainError(
      `append to table ${ctx.table}, timeline ${JSON.stringify(slot.row.timelineId)}: the write may or may not have been applied (${last?.backendCode ?? 'unknown'}: ${last?.message ?? 'no answer'}) and ${reason}.` +
        (slot.row.messageId === undefined ? '' : ' Re-sending it with the same messageId through this backend checks again before writing.'),
      {
        cause: cause ?? last,
        operation: 'append',
        table: ctx.table,
        timelineId: slot.row.timelineId,
        retryable: true,
        ...(last?.backendCode === undefined ? {} : { backendCode: last.backendCode }),
        ...(last?.status === undefined ? {} : { status: last.status }),
        ...(last?.requestId === undefined ? {} : { requestId: last.requestId }),
      },
    );
    this.#finish(slot, { ok: false, error });
    if (slot.row.messageId !== undefined) {
      const key = this.#uncertainKey(ctx.table, slot.row.timelineId, slot.row.messageId);
      this.#uncertain.delete(key);
      this.#uncertain.set(key, { writeIds: [...new Set(slot.lookFor)], sentAt: slot.sentAt ?? ctx.startedAt });
      if (this.#uncertain.size > MAX_UNCERTAIN_KEYS) this.#uncertain.delete(this.#uncertain.keys().next().value!);
    }
  }

  #uncertainKey(table: string, timelineId: string, messageId: string): string {
    return JSON.stringify([table, timelineId, messageId]);
  }

  /**
   * With ordered batches, a row may only be re-sent while no later row of its timeline (in this
   * call) has been written: otherwise it would land behind it. Such rows fail instead, retryably.
   */
  #holdOrder(ctx: OperationContext, slots: readonly Slot[]): void {
    const lastWritten = new Map<string, number>();
    for (const slot of slots) if (slot.state === 'done' && slot.result?.ok) lastWritten.set(slot.row.timelineId, slot.index);
    for (const slot of slots) {
      if (slot.state !== 'pending') continue;
      const later = lastWritten.get(slot.row.timelineId);
      if (later === undefined || later < slot.index) continue;
      const cause = slot.lastError;
      this.#finish(slot, {
        ok: false,
        error: new BackendError(
          `append to table ${ctx.table}: row ${slot.index} was not written (${cause?.backendCode ?? 'error'}: ${cause?.message ?? ''}) and was not re-sent because row ${later} of the same timeline already was; re-sending it now would break input order`,
          {
            cause,
            operation: 'append',
            table: ctx.table,
            timelineId: slot.row.timelineId,
            retryable: true,
            ...(cause?.backendCode === undefined ? {} : { backendCode: cause.backendCode }),
            ...(cause?.status === undefined ? {} : { status: cause.status }),
            ...(cause?.requestId === undefined ? {} : { requestId: cause.requestId }),
          },
        ),
      });
    }
  }

  // With ordered batches declared, verify the promise on every answer; never keep declaring it
  // once the service has been seen to break it.
  #checkOrder(ctx: OperationContext, slots: readonly Slot[]): void {
    const last = new Map<string, bigint>();
    for (const slot of slots) {
      if (slot.state !== 'done' || !slot.result?.ok) continue;
      const previous = last.get(slot.row.timelineId);
      if (previous !== undefined && slot.result.seq <= previous) {
        if (this.#capabilities.orderedBatches) {
          log('append to %s: the service numbered rows of timeline %s out of request order (%s after %s); orderedBatches is now false', ctx.table, slot.row.timelineId, slot.result.seq, previous);
          this.#capabilities = this.#makeCapabilities(false);
        }
        return;
      }
      last.set(slot.row.timelineId, slot.result.seq);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Plumbing

  /**
   * Releases the backend: later calls reject with a `ClosedError`. Calls in flight finish their
   * current request; they make no further attempt (rows not yet written fail with a
   * `ClosedError`, rows whose outcome is unknown with a `WriteUncertainError`). Closes the HTTP
   * agent of a client this backend created; a client passed in is left open. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closeController.abort(new ClosedError('TableStoreBackend'));
      this.#closing = (async () => {
        while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
        this.#agent?.destroy();
        this.#uncertain.clear();
        log('closed');
      })();
    }
    return this.#closing;
  }

  #context(operation: string, table: string, timelineId: string | undefined, signal: AbortSignal | undefined): OperationContext {
    if (this.#closed) throw new ClosedError('TableStoreBackend', { operation, table, ...(timelineId === undefined ? {} : { timelineId }) });
    if (signal?.aborted) throw new AbortedError({ operation, table, timelineId, cause: signal.reason });
    return { operation, table, ...(timelineId === undefined ? {} : { timelineId }), signal, startedAt: Date.now() };
  }

  #track<T>(ctx: OperationContext, fn: () => Promise<T>): Promise<T> {
    const promise = this.#connect().then(() => {
      // Loading the SDK the first time is not the service's fault: start the budget after it.
      ctx.startedAt = Date.now();
      return fn();
    });
    this.#inFlight.add(promise);
    const forget = (): void => {
      this.#inFlight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  #stopSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#closeController.signal : AbortSignal.any([signal, this.#closeController.signal]);
  }

  #interruption(ctx: OperationContext): TimelineError {
    if (this.#closed) return new ClosedError('TableStoreBackend', { operation: ctx.operation, table: ctx.table });
    return new AbortedError({ operation: ctx.operation, table: ctx.table, cause: ctx.signal?.reason });
  }

  /** Calls the SDK, turning its rejection into an {@link SdkFailure}. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new SdkFailure(decodeSdkError(error), error);
    }
  }

  /**
   * One request that may safely be repeated, with retries: a read, or a table operation whose
   * repetition is harmless (a second CreateTable fails with OTSObjectAlreadyExist, UpdateTable and
   * DescribeTable are idempotent). Retryable and ambiguous errors are retried under the strategy.
   * A request in flight is abandoned when the caller's signal fires.
   */
  async #request<T>(ctx: OperationContext, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed || ctx.signal?.aborted) throw this.#interruption(ctx);
      let decoded: DecodedError;
      let cause: unknown;
      try {
        log('%s %s%s (attempt %d)', ctx.operation, ctx.table, ctx.timelineId === undefined ? '' : ` timeline ${ctx.timelineId}`, attempt);
        return await this.#abortable(ctx, this.#call(fn));
      } catch (error) {
        if (!(error instanceof SdkFailure)) throw error;
        decoded = error.decoded;
        cause = error.cause;
      }
      const kind: ErrorKind = readKind(decoded);
      const error = this.#backendError(ctx, decoded, cause, ctx.timelineId, kind !== 'fatal');
      if (kind === 'fatal') throw error;
      const delay = this.#retryStrategy({ attempt, error, elapsedMs: Date.now() - ctx.startedAt, operation: ctx.operation });
      if (delay === null) throw this.#exhausted(ctx, error, attempt);
      log('%s %s: %s, retrying in %d ms', ctx.operation, ctx.table, decoded.code, delay);
      if (!(await pause(delay, this.#stopSignal(ctx.signal)))) throw this.#interruption(ctx);
    }
  }

  async #abortable<T>(ctx: OperationContext, promise: Promise<T>): Promise<T> {
    const signal = ctx.signal;
    if (signal === undefined) return promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new AbortedError({ operation: ctx.operation, table: ctx.table, timelineId: ctx.timelineId, cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  #backendError(ctx: OperationContext, decoded: DecodedError, cause: unknown, timelineId: string | undefined, retryable = decoded.kind !== 'fatal'): BackendError {
    const where = timelineId === undefined ? `table ${ctx.table}` : `table ${ctx.table}, timeline ${JSON.stringify(timelineId)}`;
    const id = decoded.requestId === undefined ? '' : ` (requestId ${decoded.requestId})`;
    return new BackendError(`${ctx.operation} on ${where} failed: ${decoded.code}${decoded.message ? `: ${decoded.message}` : ''}${id}`, {
      cause,
      operation: ctx.operation,
      table: ctx.table,
      ...(timelineId === undefined ? {} : { timelineId }),
      retryable,
      backendCode: decoded.code,
      ...(decoded.status === undefined ? {} : { status: decoded.status }),
      ...(decoded.requestId === undefined ? {} : { requestId: decoded.requestId }),
    });
  }

  #exhausted(ctx: OperationContext, error: BackendError, attempts: number): BackendError {
    const elapsed = Date.now() - ctx.startedAt;
    return new BackendError(
      `${error.message} — gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${elapsed} ms: the retry budget is exhausted. ` +
        'Allow more time with the `retryStrategy` option of TableStoreBackend, e.g. `retryStrategy: createRetryStrategy({ budgetMs: 30_000 })`.',
      {
        cause: error,
        operation: ctx.operation,
        table: ctx.table,
        ...(error.timelineId === undefined ? {} : { timelineId: error.timelineId }),
        retryable: true,
        ...(error.backendCode === undefined ? {} : { backendCode: error.backendCode }),
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
      },
    );
  }
}
