/**
 * The emulator server: HTTP transport, authentication, fault injection, statistics, the control
 * endpoint and persistence around the {@link Engine}.
 *
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import createDebug from 'debug';
import { responseHeaders, verifyRequest } from './auth.js';
import { Engine, type LogRecord } from './engine.js';
import { KNOWN_APIS, LIMITS, SUPPORTED_APIS, type SupportedApi } from './limits.js';
import { checkOptions, checkAutoIncrementStart, instancesOf } from './options.js';
import { OtsError, invalid, unsupported } from './errors.js';
import { FaultController, validateFaultSpec, type FaultDecision, type FaultSpec } from './faults.js';
import * as M from '../codec/messages.js';
import { FileLog } from './persistence.js';
import { mulberry32 } from './prng.js';
import { encodeMessage } from '../codec/protobuf.js';

const debug = createDebug('tablestore-timeline:emulator');

/** Path prefix of the control endpoint; it can never be an API name (those have no slash). */
export const CONTROL_PREFIX = '/__emulator/';

/** Shape of {@link EMULATOR_DEFAULTS}. */
export interface EmulatorDefaults {
  /** Interface the server listens on. */
  readonly host: string;
  /** Instance name clients must send. */
  readonly instanceName: string;
  /** Access key id clients must sign with. */
  readonly accessKeyId: string;
  /** Access key secret clients must sign with. */
  readonly accessKeySecret: string;
  /** Seed of the PRNGs behind fault probabilities and auto-increment gaps. */
  readonly seed: number;
}

/** Default host, instance name, credentials and seed of {@link startEmulator}. */
export const EMULATOR_DEFAULTS: EmulatorDefaults = Object.freeze({
  host: '127.0.0.1',
  instanceName: 'emulator',
  accessKeyId: 'emulator-access-key-id',
  accessKeySecret: 'emulator-access-key-secret',
  seed: 20150101,
});

/** The `TableStoreBackend` connection settings that reach an emulator (see {@link Emulator.connection}). */
export interface EmulatorConnection {
  /** The emulator's base URL. */
  readonly endpoint: string;
  /** The emulator's instance name. */
  readonly instanceName: string;
  /** The access key id. */
  readonly accessKeyId: string;
  /** The access key secret. */
  readonly accessKeySecret: string;
}

/** The `tablestore` SDK client config that reaches an emulator (see {@link Emulator.clientConfig}). */
export interface SdkClientConfig {
  /** The emulator's base URL. */
  readonly endpoint: string;
  /** The emulator's instance name (the SDK spells it in lower case). */
  readonly instancename: string;
  /** The access key id. */
  readonly accessKeyId: string;
  /** The access key secret. */
  readonly secretAccessKey: string;
}

/**
 * Options of {@link startEmulator}. Every option is optional.
 */
export interface EmulatorOptions {
  /** TCP port; `0` picks a free one. @default 0 */
  readonly port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Instance name clients must send (`instancename` in the SDK config), or several names, each
   * with its own tables; `'*'` accepts any name (each again with its own tables). The first name
   * other than `'*'` is the one {@link Emulator.clientConfig} uses.
   * @default 'emulator'
   */
  readonly instanceName?: string | readonly string[];
  /** Access key id clients must sign with. @default 'emulator-access-key-id' */
  readonly accessKeyId?: string;
  /** Access key secret clients must sign with. @default 'emulator-access-key-secret' */
  readonly accessKeySecret?: string;
  /** Milliseconds added to every API request (on top of injected latency). @default 0 */
  readonly latencyMs?: number;
  /**
   * Clock in milliseconds since the epoch, used for cell timestamps, TTL and auto-increment
   * values. Inject one to test TTL without sleeping.
   * @default Date.now
   */
  readonly clock?: () => number;
  /** Seed of the PRNGs behind fault probabilities and auto-increment gaps. @default 20150101 */
  readonly seed?: number;
  /**
   * Smallest auto-increment value handed out: the first value of every partition is at least
   * this. Set it above 2^53 to prove that callers keep seqs exact (the service's values are
   * around 1.7e15, below 2^53). Must be from 1n to 2^62.
   * @default 1n
   */
  readonly autoIncrementStart?: bigint;
  /** Directory of the persistence log; without it, data lives in memory only. @default undefined */
  readonly dataDir?: string;
  /** With `dataDir`: fsync the log before acknowledging each write. @default true */
  readonly fsync?: boolean;
  /** With `dataDir`: rewrite the log as a compact snapshot when opening. @default true */
  readonly compactOnOpen?: boolean;
  /** Serve the `/__emulator/*` control endpoint. @default true */
  readonly controlEndpoint?: boolean;
}

/** Counters returned by {@link Emulator.stats}. */
export interface EmulatorStats {
  /** Requests received per API name (including rejected and faulted ones). */
  readonly requests: Readonly<Record<string, number>>;
  /** Error responses sent per OTS error code (injected ones included). */
  readonly errors: Readonly<Record<string, number>>;
  /** Injected faults fired per API name. */
  readonly faults: Readonly<Record<string, number>>;
  /** Rows visible now, per table. */
  readonly rows: Readonly<Record<string, number>>;
}

/** A running emulator, returned by {@link startEmulator}. */
export interface Emulator {
  /** Base URL for the SDK, e.g. `'http://127.0.0.1:8800'`. */
  readonly endpoint: string;
  /** Bound host. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Instance name to configure in the SDK (`instancename`): the first configured name other than `'*'`. */
  readonly instanceName: string;
  /** Every configured instance name (`'*'` when any name is accepted); each instance has its own tables. */
  readonly instanceNames: readonly string[];
  /** Access key id to configure in the SDK. */
  readonly accessKeyId: string;
  /** Access key secret to configure in the SDK (`secretAccessKey` or `accessKeySecret`). */
  readonly accessKeySecret: string;
  /** Fault injection. */
  readonly faults: FaultController;
  /**
   * A ready-made SDK client config: `new TableStore.Client({ ...emu.clientConfig(), maxRetries: 0 })`.
   */
  clientConfig(): SdkClientConfig;
  /**
   * The connection settings of this library's TableStore backend:
   * `new TableStoreBackend({ ...emu.connection() })`.
   */
  connection(): EmulatorConnection;
  /** Moves the emulator's clock forward (TTL tests without an injected clock, or from outside). */
  advanceClock(ms: number): void;
  /** Request, error, fault and row counters. */
  stats(): EmulatorStats;
  /** Drops every table, counter and fault (and empties the log when persistent). */
  reset(): void;
  /** Stops serving, closes every connection (keep-alive ones too) and the log. */
  close(): Promise<void>;
}

function inc(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

function sleep(ms: number, pending: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pending.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    pending.add(done);
  });
}

const SUPPORTED = new Set<string>(SUPPORTED_APIS);

/** The `stats().requests` bucket of every path that is not a TableStore API name. */
export const UNKNOWN_PATH_BUCKET = '(unknown)';

/**
 * Starts a local TableStore emulator: a real HTTP server that the official `tablestore` SDK
 * talks to unchanged.
 *
 * @example
 * ```ts
 * import TableStore from 'tablestore';
 * import { startEmulator } from 'tablestore-timeline/emulator';
 *
 * const emu = await startEmulator({ port: 0 });
 * const client = new TableStore.Client({ ...emu.clientConfig(), maxRetries: 0 });
 * await client.listTable({});
 * emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSServerBusy', times: 3 });
 * console.log(emu.stats());
 * await emu.close();
 * ```
 * @throws {EmulatorOptionError} for malformed options (code `INVALID_ARGUMENT`, naming the option); the
 *   listen error when the port is taken.
 */
export async function startEmulator(input?: EmulatorOptions): Promise<Emulator> {
  const options = checkOptions(input);
  const host = options.host ?? EMULATOR_DEFAULTS.host;
  const instances = instancesOf(options.instanceName, EMULATOR_DEFAULTS.instanceName);
  const creds = {
    instanceName: instances.primary,
    instanceNames: instances.names,
    accessKeyId: options.accessKeyId ?? EMULATOR_DEFAULTS.accessKeyId,
    accessKeySecret: options.accessKeySecret ?? EMULATOR_DEFAULTS.accessKeySecret,
  };
  const seed = options.seed ?? EMULATOR_DEFAULTS.seed;
  const baseClock = options.clock ?? Date.now;
  let clockOffset = 0;
  const now = (): bigint => BigInt(Math.floor(baseClock() + clockOffset));
  const latencyMs = options.latencyMs ?? 0;
  const controlEnabled = options.controlEndpoint ?? true;

  const faults = new FaultController(seed);
  let log: FileLog | undefined;
  const autoIncrementStart = options.autoIncrementStart ?? 1n;
  checkAutoIncrementStart(autoIncrementStart);
  const engine = new Engine({
    now,
    autoIncrementStart,
    random: mulberry32((seed ^ 0x9e3779b9) >>> 0),
    onRecord: (rec: LogRecord) => log?.append(rec),
  }, instances.primary);
  if (options.dataDir !== undefined) {
    log = FileLog.open(
      options.dataDir,
      { fsync: options.fsync ?? true, compact: options.compactOnOpen ?? true },
      (rec) => engine.applyRecord(rec),
      () => engine.snapshot(),
    );
  }

  const requests = new Map<string, number>();
  const errors = new Map<string, number>();
  const faultsFired = new Map<string, number>();
  const pendingSleeps = new Set<() => void>();
  let closed = false;

  const stats = (): EmulatorStats => ({
    requests: Object.fromEntries(requests),
    errors: Object.fromEntries(errors),
    faults: Object.fromEntries(faultsFired),
    rows: engine.visibleRows(),
  });

  const reset = (): void => {
    engine.clear();
    requests.clear();
    errors.clear();
    faultsFired.clear();
    faults.clear();
    clockOffset = 0;
    log?.truncate();
  };

  /**
   * Sends an API answer (success or error) with the headers and signature the service sends: the
   * stricter SDKs refuse an answer without them. The date is wall time, not the injected clock,
   * because SDKs compare it with their own clock.
   */
  const send = (res: http.ServerResponse, path: string, status: number, body: Buffer): void => {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, {
      'content-type': 'application/x-protobuf',
      'content-length': body.length,
      ...responseHeaders(path, body, randomUUID(), creds, Date.now()),
    });
    res.end(body);
  };

  const sendError = (res: http.ServerResponse, path: string, e: OtsError): void => {
    inc(errors, e.code);
    debug('-> %d %s: %s', e.status, e.code, e.message);
    send(res, path, e.status, encodeMessage(M.ErrorMsg, { code: e.code, message: e.message }, 'Error'));
  };

  const sendJson = (res: http.ServerResponse, status: number, value: unknown): void => {
    if (res.destroyed || res.headersSent) return;
    const body = Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  };

  /** Reads the body; `undefined` when it exceeds `limit` (the rest is drained, not kept). */
  const readBody = (req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= limit) chunks.push(c);
      });
      // A body that arrived in one chunk is used as it is: no copy.
      req.on('end', () => resolve(size > limit ? undefined : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
      req.on('error', reject);
    });

  const handleControl = async (req: http.IncomingMessage, res: http.ServerResponse, route: string): Promise<void> => {
    const body = await readBody(req, 1024 * 1024);
    const parse = (): unknown => (body && body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined);
    try {
      if (req.method === 'GET' && route === 'stats') return sendJson(res, 200, stats());
      if (req.method === 'GET' && route === 'health') return sendJson(res, 200, { ok: true, instanceName: creds.instanceName, instanceNames: creds.instanceNames });
      // CPU and memory of the emulator's process, for benchmarks that run it apart from the client.
      if (req.method === 'GET' && route === 'process') return sendJson(res, 200, { pid: process.pid, cpuUsage: process.cpuUsage(), memoryUsage: process.memoryUsage() });
      if (req.method === 'POST' && route === 'reset') {
        reset();
        return sendJson(res, 200, { ok: true });
      }
      if (req.method === 'GET' && route === 'faults') return sendJson(res, 200, faults.list());
      if (req.method === 'POST' && route === 'faults') {
        const input = parse();
        const specs = (Array.isArray(input) ? input : [input]).map((s) => validateFaultSpec(s));
        return sendJson(res, 200, { ids: specs.map((s) => faults.inject(s)) });
      }
      if (req.method === 'POST' && route === 'faults/release') return sendJson(res, 200, { released: await faults.release() });
      if (req.method === 'POST' && route === 'faults/held') {
        const input = (parse() ?? {}) as { atLeast?: unknown; timeoutMs?: unknown };
        const atLeast = input.atLeast ?? 1;
        const timeoutMs = input.timeoutMs ?? 10_000;
        if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError('Expected `timeoutMs` to be a number from 0 and up');
        return sendJson(res, 200, { held: await faults.whenHeld(atLeast as number, timeoutMs) });
      }
      if ((req.method === 'DELETE' && route === 'faults') || (req.method === 'POST' && route === 'faults/clear')) {
        faults.clear();
        return sendJson(res, 200, { ok: true });
      }
      if (req.method === 'DELETE' && route.startsWith('faults/')) {
        const removed = faults.remove(route.slice('faults/'.length));
        return sendJson(res, removed ? 200 : 404, { ok: removed });
      }
      if (req.method === 'POST' && route === 'clock') {
        const input = parse() as { advanceMs?: unknown } | undefined;
        const ms = input?.advanceMs;
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError('Expected `advanceMs` to be a number from 0 and up');
        clockOffset += ms;
        return sendJson(res, 200, { now: now() });
      }
      return sendJson(res, 404, { error: `Unknown control route: ${req.method ?? ''} ${CONTROL_PREFIX}${route}` });
    } catch (e) {
      return sendJson(res, 400, { error: (e as Error).message });
    }
  };

  const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> => {
    const api = path.slice(1);
    // Counted by route, not by raw path: any number of junk paths shares one bucket.
    inc(requests, KNOWN_APIS.has(api) ? api : UNKNOWN_PATH_BUCKET);
    const body = await readBody(req, LIMITS.requestBytes);
    if (req.method !== 'POST') {
      return sendError(res, path, new OtsError('OTSMethodNotAllowed', 'Only POST method for requests is supported.'));
    }
    if (body === undefined) return sendError(res, path, new OtsError('OTSRequestBodyTooLarge', 'The size of POST data is too large.'));
    let instance: string;
    try {
      instance = verifyRequest(path, 'POST', req.headers, body, creds);
      if (!SUPPORTED.has(api)) throw /^[A-Za-z]+$/.test(api) ? unsupported(`The ${api} API`) : invalid(`Unknown API: '${api}'.`);
    } catch (e) {
      return sendError(res, path, e as OtsError);
    }
    const decision: FaultDecision = faults.decide(api, body);
    if (decision.fired > 0) inc(faultsFired, api, decision.fired);
    const delay = latencyMs + decision.latencyMs;
    if (delay > 0) await sleep(delay, pendingSleeps);
    if (decision.hold !== undefined && !closed) await faults.hold(decision.hold, res);
    if (closed) return;
    if (decision.drop === 'before-apply') {
      debug('%s: dropping the connection before applying', api);
      res.socket?.destroy();
      return;
    }
    if (decision.error) return sendError(res, path, new OtsError(decision.error.code, decision.error.message, decision.error.status));
    let out: Buffer;
    try {
      out = engine.handle(api as SupportedApi, body, { rowError: decision.rowError }, instance);
    } catch (e) {
      if (e instanceof OtsError) return sendError(res, path, e);
      debug('%s: internal error %O', api, e);
      return sendError(res, path, new OtsError('OTSInternalServerError', `Internal server error: ${(e as Error).message}`));
    }
    if (decision.drop === 'after-apply') {
      debug('%s: applied, now dropping the connection', api);
      res.socket?.destroy();
      return;
    }
    send(res, path, 200, out);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const work = path.startsWith(CONTROL_PREFIX)
      ? controlEnabled
        ? handleControl(req, res, path.slice(CONTROL_PREFIX.length))
        : Promise.resolve(sendJson(res, 404, { error: 'The control endpoint is disabled.' }))
      : handleApi(req, res, path);
    work.catch((e: unknown) => {
      debug('request failed: %O', e);
      if (!res.headersSent) sendError(res, path, new OtsError('OTSInternalServerError', 'Internal server error.'));
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    log?.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' || host.includes(':') ? `[${addr.address}]` : host;
  const endpoint = `http://${urlHost}:${addr.port}`;
  debug('listening on %s (instance %s)', endpoint, creds.instanceName);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      closed = true;
      for (const wake of [...pendingSleeps]) wake();
      void faults.release();
      server.close(() => {
        log?.close();
        resolve();
      });
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    endpoint,
    host,
    port: addr.port,
    ...creds,
    faults,
    clientConfig: () => ({ endpoint, instancename: creds.instanceName, accessKeyId: creds.accessKeyId, secretAccessKey: creds.accessKeySecret }),
    connection: () => ({ endpoint, instanceName: creds.instanceName, accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret }),
    advanceClock: (ms: number) => {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError('Expected `ms` to be a number from 0 and up');
      clockOffset += ms;
    },
    stats,
    reset,
    close,
  };
}
