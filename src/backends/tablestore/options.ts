/**
 * The options of {@link TableStoreBackend} and their validation: connection settings or an
 * existing client, the retry policy, column names and the write-settling window.
 *
 * @packageDocumentation
 */
import http from 'node:http';
import https from 'node:https';
import { ValidationError } from '../../core/errors.js';
import { checkOptionsObject, checkPositiveInteger } from '../../core/validate.js';
import { MAX_TIMER_MS } from './limits.js';
import { createRetryStrategy, type RetryStrategy } from './retry.js';
import { resolveRecordColumns, type ResolvedRecordColumns, type TableStoreRecordColumns } from './record-layout.js';
import { resolveColumns, type ResolvedColumns, type TableStoreColumns } from './row-layout.js';
import type { SdkClientConfig, TableStoreClientLike } from './sdk-types.js';

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
  /**
   * How the client this backend creates talks to the service. `'sdk'`: the official SDK's client
   * for everything. `'wire'`: the library's own HTTP path (the same bytes, headers and signature
   * as the SDK, checked by a differential test suite; less client CPU per request). The SDK is
   * loaded either way (its constants build some requests). With `client`, only `'sdk'` applies.
   * See docs/backends.md for the measurements and evidence behind the default.
   * @default 'wire'
   */
  transport?: 'wire' | 'sdk';
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
  /** Column names of the record tables (`backend.records`). Defaults: `partition`, `key`, `value`, `version`. */
  recordColumns?: TableStoreRecordColumns;
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

/** The options, checked and with defaults filled in. */
export interface ResolvedOptions {
  readonly givenClient: TableStoreClientLike | undefined;
  readonly clientConfig: SdkClientConfig | undefined;
  /** The HTTP agent of an SDK client this backend creates, so that close() can release its sockets (the wire client has its own pool). */
  readonly agent: http.Agent | undefined;
  readonly columns: ResolvedColumns;
  readonly recordColumns: ResolvedRecordColumns;
  readonly retryStrategy: RetryStrategy;
  readonly windowRows: number;
  readonly orderedBatches: boolean;
  /** How a client this backend creates talks to the service (`'sdk'` whenever a client is given). */
  readonly transport: 'wire' | 'sdk';
}

const CONNECTION_KEYS = ['endpoint', 'instanceName', 'accessKeyId', 'accessKeySecret', 'stsToken', 'requestTimeoutMs', 'sdkMaxRetries'] as const;

/**
 * Checks the options synchronously.
 * @throws {ValidationError} for missing or conflicting connection settings, or invalid options.
 */
export function resolveOptions(options: TableStoreBackendOptions): ResolvedOptions {
  const opts = checkOptionsObject(options, 'options') as TableStoreBackendOptions;
  const columns = resolveColumns(opts.columns === undefined ? undefined : (checkOptionsObject(opts.columns, 'options.columns') as TableStoreColumns));
  const recordColumns = resolveRecordColumns(opts.recordColumns === undefined ? undefined : (checkOptionsObject(opts.recordColumns, 'options.recordColumns') as TableStoreRecordColumns));
  if (opts.retryStrategy !== undefined && typeof opts.retryStrategy !== 'function') {
    throw new ValidationError('options.retryStrategy', 'Expected `options.retryStrategy` to be a function ({ attempt, error, elapsedMs }) => delayMs | null');
  }
  const windowRows = opts.ambiguityWindowRows === undefined ? 5000 : checkPositiveInteger(opts.ambiguityWindowRows, 'options.ambiguityWindowRows');
  if (opts.orderedBatches !== undefined && typeof opts.orderedBatches !== 'boolean') {
    throw new ValidationError('options.orderedBatches', `Expected \`options.orderedBatches\` to be a boolean, got ${typeof opts.orderedBatches}`);
  }
  const common = { columns, recordColumns, retryStrategy: opts.retryStrategy ?? createRetryStrategy(), windowRows, orderedBatches: opts.orderedBatches ?? false };
  if (opts.transport !== undefined && opts.transport !== 'wire' && opts.transport !== 'sdk') {
    throw new ValidationError('options.transport', `Expected \`options.transport\` to be 'wire' or 'sdk', got ${JSON.stringify(opts.transport) ?? String(opts.transport)}`);
  }
  if (opts.client !== undefined) {
    if (opts.transport === 'wire') {
      throw new ValidationError('options.transport', "`options.transport: 'wire'` needs connection settings, not `options.client` (a given SDK client is used for everything): drop one of them");
    }
    return { ...common, givenClient: checkClient(opts), clientConfig: undefined, agent: undefined, transport: 'sdk' };
  }
  // The wire path: the same bytes as the SDK (the differential suite), a third of its client CPU.
  const transport = opts.transport ?? 'wire';
  const { config, agent } = clientConfig(opts, transport);
  return { ...common, givenClient: undefined, clientConfig: config, agent, transport };
}

function checkClient(opts: TableStoreBackendOptions): TableStoreClientLike {
  const given = CONNECTION_KEYS.filter((key) => opts[key] !== undefined);
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
  return client as TableStoreClientLike;
}

function clientConfig(opts: TableStoreBackendOptions, transport: 'wire' | 'sdk'): { config: SdkClientConfig; agent: http.Agent | undefined } {
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
  // An SDK client gets an agent of our own, so that close() can release its keep-alive sockets;
  // the wire client keeps its own pool, released by close() too.
  const agent =
    transport === 'wire' ? undefined : opts.endpoint!.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: 300 }) : new http.Agent({ keepAlive: true, maxSockets: 300 });
  const config: SdkClientConfig = {
    endpoint: opts.endpoint!,
    instancename: opts.instanceName!,
    accessKeyId: opts.accessKeyId!,
    accessKeySecret: opts.accessKeySecret!,
    maxRetries,
    httpOptions: agent === undefined ? { timeout } : { timeout, agent },
  };
  if (opts.stsToken !== undefined) config.stsToken = opts.stsToken;
  return { config, agent };
}
