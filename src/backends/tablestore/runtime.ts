/**
 * The state one {@link TableStoreBackend} shares between its parts: the lazily loaded SDK and
 * client, the options, whether it is closed, and the calls in flight that `close()` waits for.
 *
 * @packageDocumentation
 */
import { setMaxListeners } from 'node:events';
import createDebug from 'debug';
import type { BackendCapabilities } from '../../core/backend.js';
import { AbortedError, ClosedError, type TimelineError } from '../../core/errors.js';
import { loadTableStoreSdk } from './load-sdk.js';
import { tableStoreCapabilities } from './limits.js';
import type { ResolvedOptions } from './options.js';
import { rowOverheadBytes, type ResolvedColumns } from './row-layout.js';
import type { RetryStrategy } from './retry.js';
import type { TableStoreClientLike, TableStoreSdk } from './sdk-types.js';
import { createClient } from './wire/create-client.js';
import { WireClient } from './wire/wire-client.js';

/** The backend's debug logger (`DEBUG=tablestore-timeline:tablestore`). */
export const log = createDebug('tablestore-timeline:tablestore');

/** One public call of the backend, as its requests and errors see it. */
export interface OperationContext {
  readonly operation: string;
  readonly table: string;
  readonly timelineId?: string;
  readonly signal?: AbortSignal | undefined;
  /** Start of the operation (after the SDK is loaded); the retry budget counts from it. */
  startedAt: number;
  /** True once any request of this operation got an answer from the server (even an error). */
  reached?: boolean;
}

/** The shared state of one backend. */
export class Runtime {
  readonly options: ResolvedOptions;
  /** Bytes a row costs beyond its payload and ids (see `rowOverheadBytes`). */
  readonly overhead: number;
  #connection: { sdk: TableStoreSdk; client: TableStoreClientLike } | undefined;
  #connecting: Promise<void> | undefined;
  #capabilities: BackendCapabilities;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #closeController = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #onClose: (() => void)[] = [];

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.overhead = rowOverheadBytes(options.columns);
    this.#capabilities = tableStoreCapabilities(options.orderedBatches, this.overhead);
    // Every operation waiting to retry listens to this signal (until its pause ends): under
    // throttling, many at once is normal, not the leak Node's default limit of 10 would report.
    setMaxListeners(0, this.#closeController.signal);
  }

  get columns(): ResolvedColumns {
    return this.options.columns;
  }

  get retryStrategy(): RetryStrategy {
    return this.options.retryStrategy;
  }

  get capabilities(): BackendCapabilities {
    return this.#capabilities;
  }

  /** Stops declaring `orderedBatches`, for good: the service was seen breaking batch order. */
  dropOrderedBatches(): void {
    if (this.#capabilities.orderedBatches) this.#capabilities = tableStoreCapabilities(false, this.overhead);
  }

  /** The loaded SDK; only valid inside {@link Runtime.track}. */
  get sdk(): TableStoreSdk {
    return this.#connection!.sdk;
  }

  /** The client; only valid inside {@link Runtime.track}. */
  get client(): TableStoreClientLike {
    return this.#connection!.client;
  }

  /** The endpoint requests go to, for error messages. */
  get endpoint(): string {
    const given = this.options.givenClient as { config?: { endpoint?: unknown } } | undefined;
    const endpoint = this.options.clientConfig?.endpoint ?? given?.config?.endpoint;
    return typeof endpoint === 'string' ? endpoint : 'the endpoint of the given client';
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` when the backend closes (after the calls in flight have finished). */
  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  /**
   * Starts an operation: rejects synchronously-checked states (closed, aborted).
   * @throws {ClosedError} when the backend is closed.
   * @throws {AbortedError} when `signal` has fired.
   */
  context(operation: string, table: string, timelineId: string | undefined, signal: AbortSignal | undefined): OperationContext {
    if (this.#closed) throw new ClosedError('TableStoreBackend', { operation, table, ...(timelineId === undefined ? {} : { timelineId }) });
    if (signal?.aborted) throw new AbortedError({ operation, table, timelineId, cause: signal.reason });
    // Without a spread: this runs for every request.
    return timelineId === undefined ? { operation, table, signal, startedAt: Date.now() } : { operation, table, timelineId, signal, startedAt: Date.now() };
  }

  /** Runs an operation once connected, counting it as in flight until it settles. */
  track<T>(ctx: OperationContext, fn: () => Promise<T>): Promise<T> {
    // Connected (every call but the first few): run at once, without waiting a turn for a
    // connection that is already there.
    const promise =
      this.#connection !== undefined
        ? run(fn)
        : this.#connect().then(() => {
            // Loading the SDK the first time is not the service's fault: start the budget after it.
            ctx.startedAt = Date.now();
            return fn();
          });
    const inFlight = this.#inFlight;
    inFlight.add(promise);
    const forget = (): void => {
      inFlight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** A signal that fires when the caller's signal does or the backend closes. */
  stopSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#closeController.signal : AbortSignal.any([signal, this.#closeController.signal]);
  }

  /** The error for an operation stopped by `close()` or by its signal. */
  interruption(ctx: OperationContext): TimelineError {
    if (this.#closed) return new ClosedError('TableStoreBackend', { operation: ctx.operation, table: ctx.table });
    return new AbortedError({ operation: ctx.operation, table: ctx.table, cause: ctx.signal?.reason });
  }

  /** True when the operation must make no further attempt. */
  stopped(ctx: OperationContext): boolean {
    return this.#closed || ctx.signal?.aborted === true;
  }

  /** See {@link TableStoreBackend.close}. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closeController.abort(new ClosedError('TableStoreBackend'));
      this.#closing = (async () => {
        while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
        this.options.agent?.destroy();
        for (const fn of this.#onClose) fn();
        log('closed');
      })();
    }
    return this.#closing;
  }

  /** Loads the SDK and creates the client, once; a failure is retried by the next call. */
  async #connect(): Promise<void> {
    if (this.#connection !== undefined) return;
    this.#connecting ??= (async () => {
      const sdk = await loadTableStoreSdk();
      const client = this.options.givenClient ?? createClient(sdk, this.options);
      // The wire client owns its connections: close() releases them as it does the SDK's agent.
      if (client instanceof WireClient) this.onClose(() => client.destroy());
      this.#connection = { sdk, client };
    })();
    try {
      await this.#connecting;
    } finally {
      if (this.#connection === undefined) this.#connecting = undefined;
    }
  }
}

// Calls `fn`, turning a synchronous throw into a rejection, as an `async` wrapper would.
function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (error) {
    return Promise.reject(error);
  }
}
