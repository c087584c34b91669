/**
 * `WireClient`: a drop-in for the `TableStore.Client` methods the backend calls, that talks to the
 * service itself: a codec for the bodies, the SDK's headers and signature, one keep-alive POST per
 * attempt, and SDK-shaped results and errors. It skips the SDK's request state machine, its event
 * emitters and its streamed body, which cost more client CPU per request than the encoding.
 *
 * @packageDocumentation
 */
import type { SdkBatchWriteRowResult, SdkDescribeTableResult, SdkPrimaryKeyCell, SdkRow, TableStoreClientLike } from '../sdk-types.js';
import { sdkOperation, type WireCodec, type WireOperation } from './codec.js';
import { HttpPool } from './http-pool.js';
import { serviceError } from './sdk-errors.js';
import { sdkRetryDelay, sdkShouldRetry, type SdkRetryRules } from './sdk-retry.js';
import { RequestSigner } from './signing.js';

/** What a {@link WireClient} is made of. */
export interface WireClientOptions {
  /** The instance endpoint, e.g. `https://my-instance.cn-hangzhou.ots.aliyuncs.com`. */
  readonly endpoint: string;
  readonly instanceName: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly stsToken?: string | undefined;
  /** Most connections open at once. @default 300 (the SDK's `maxSockets`) */
  readonly maxSockets?: number;
  /** Socket idle timeout per attempt in milliseconds, like the SDK's `httpOptions.timeout`; 0 for none. */
  readonly timeoutMs: number;
  /** Encodes requests and decodes answers. */
  readonly codec: WireCodec;
  /** The SDK's retry rules, applied up to `maxRetries` times (0: no retry here; the backend retries). */
  readonly retryRules: SdkRetryRules;
  readonly maxRetries: number;
  /** The clock requests are dated by (`x-ots-date`); for tests. Default: `Date.now`. */
  readonly now?: () => number;
}

// The request path of each API, made once.
const PATHS: Readonly<Record<WireOperation, string>> = {
  CreateTable: '/CreateTable',
  UpdateTable: '/UpdateTable',
  DescribeTable: '/DescribeTable',
  PutRow: '/PutRow',
  UpdateRow: '/UpdateRow',
  DeleteRow: '/DeleteRow',
  GetRow: '/GetRow',
  GetRange: '/GetRange',
  BatchWriteRow: '/BatchWriteRow',
};

// The SDK's Config strips leading white space from every string option.
const trimStart = (value: string): string => value.replace(/^\s+/, '');

/** Sends the backend's requests without the SDK's request machinery; see the module comment. */
export class WireClient implements TableStoreClientLike {
  readonly #signer: RequestSigner;
  readonly #pool: HttpPool;
  readonly #timeoutMs: number;
  readonly #codec: WireCodec;
  readonly #retryRules: SdkRetryRules;
  readonly #maxRetries: number;
  readonly #now: () => number;

  constructor(options: WireClientOptions) {
    const url = new URL(trimStart(options.endpoint));
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    // The SDK sends the host name without the port in `Host`, and signs nothing of it.
    this.#signer = new RequestSigner({
      host: url.hostname,
      instanceName: trimStart(options.instanceName),
      accessKeyId: trimStart(options.accessKeyId),
      accessKeySecret: trimStart(options.accessKeySecret),
      stsToken: options.stsToken === undefined ? undefined : trimStart(options.stsToken),
    });
    this.#pool = new HttpPool({
      protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (protocol === 'https:' ? 443 : 80) : Number(url.port),
      maxSockets: options.maxSockets ?? 300,
    });
    this.#timeoutMs = options.timeoutMs;
    this.#codec = options.codec;
    this.#retryRules = options.retryRules;
    this.#maxRetries = options.maxRetries;
    this.#now = options.now ?? Date.now;
  }

  /** `TableStore.Client#createTable`. */
  createTable(params: Record<string, unknown>): Promise<unknown> {
    return this.#call('CreateTable', params);
  }

  /** `TableStore.Client#describeTable`. */
  describeTable(params: { tableName: string }): Promise<SdkDescribeTableResult> {
    return this.#call('DescribeTable', params);
  }

  /** `TableStore.Client#updateTable`. */
  updateTable(params: Record<string, unknown>): Promise<unknown> {
    return this.#call('UpdateTable', params);
  }

  /** `TableStore.Client#putRow`. */
  putRow(params: Record<string, unknown>): Promise<{ row?: SdkRow; RequestId?: string }> {
    return this.#call('PutRow', params);
  }

  /** `TableStore.Client#deleteRow`. */
  deleteRow(params: Record<string, unknown>): Promise<{ RequestId?: string }> {
    return this.#call('DeleteRow', params);
  }

  /** `TableStore.Client#updateRow`. */
  updateRow(params: Record<string, unknown>): Promise<{ RequestId?: string }> {
    return this.#call('UpdateRow', params);
  }

  /** `TableStore.Client#batchWriteRow`. */
  batchWriteRow(params: Record<string, unknown>): Promise<{ tables?: readonly SdkBatchWriteRowResult[]; RequestId?: string }> {
    return this.#call('BatchWriteRow', params);
  }

  /** `TableStore.Client#getRow`. */
  getRow(params: Record<string, unknown>): Promise<{ row?: SdkRow; RequestId?: string }> {
    return this.#call('GetRow', params);
  }

  /** `TableStore.Client#getRange`. */
  getRange(params: Record<string, unknown>): Promise<{ rows?: readonly SdkRow[]; nextStartPrimaryKey?: readonly SdkPrimaryKeyCell[] | null; RequestId?: string }> {
    return this.#call('GetRange', params);
  }

  /** Closes the client's connections; later calls fail with a `NetworkingError`. */
  destroy(): void {
    this.#pool.destroy();
  }

  // ---- Direct calls (the backend's own request bodies and answer decoders, see ../direct/) ----

  /**
   * One API call with a body the caller encoded and an answer it decodes itself (the backend's
   * direct paths): the same signing, sending, SDK-shaped errors and SDK retry rules as the
   * SDK-shaped methods, which are this with the codec's encoder and decoder. A `decode` that
   * throws fails the attempt as an undecodable answer does.
   */
  exchange<T>(op: WireOperation, body: Buffer, decode: (answer: Buffer, requestId: string | undefined) => T): Promise<T> {
    return this.#exchange(op, body, decode);
  }

  // ---- end of direct calls ----

  /** One API call: encode once, then sign and send per attempt, as the SDK does. */
  async #call<T>(op: WireOperation, params: Record<string, unknown>): Promise<T> {
    const body = this.#codec.encodeRequest(op, params);
    return this.#exchange(op, body, (answer, requestId) => {
      const data = this.#codec.decodeResponse(op, answer);
      data.RequestId = requestId;
      return data as T;
    });
  }

  async #exchange<T>(op: WireOperation, body: Buffer, decode: (answer: Buffer, requestId: string | undefined) => T): Promise<T> {
    const path = PATHS[op];
    for (let retries = 0; ; retries++) {
      try {
        const answer = await this.#pool.send(this.#signer.message(path, body, this.#now()), this.#timeoutMs);
        if (answer.status >= 300) throw serviceError(answer.status, answer.headers, answer.body);
        return decode(answer.body, answer.requestId);
      } catch (error) {
        const again = sdkShouldRetry(this.#retryRules, this.#maxRetries, retries, error, sdkOperation(op));
        if (!again) {
          // The SDK marks every error it rejects with whether its policy would retry it.
          if (error !== null && typeof error === 'object') (error as { retryable?: boolean }).retryable = false;
          throw error;
        }
        const delay = sdkRetryDelay(this.#retryRules, retries, error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
