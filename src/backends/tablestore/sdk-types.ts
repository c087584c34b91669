/**
 * Hand-written types for the subset of the official `tablestore` Node SDK (5.x, plain JavaScript,
 * no typings) that the TableStore backend uses. They describe shapes, not the SDK's classes, so
 * that this package's declarations never reference the SDK and a test can pass a look-alike.
 *
 * @packageDocumentation
 */
import type { SdkProtocol } from './wire/codec.js';
import type { SdkRetryRules } from './wire/sdk-retry.js';

/**
 * An `int64-buffer` `Int64LE` as the SDK returns for INTEGER cells and accepts from
 * `TableStore.Long.fromString`. Read it through {@link Int64Like.toBuffer} (8 bytes, little
 * endian, two's complement) or `toString(10)`; never through `toNumber()`/`toJSON()`, which round.
 */
export interface Int64Like {
  toBuffer(): Uint8Array;
  toString(radix?: number): string;
}

/** A primary key cell as the SDK *returns* it (rows, `nextStartPrimaryKey`). */
export interface SdkPrimaryKeyCell {
  readonly name: string;
  readonly value: unknown;
}

/** An attribute cell as the SDK returns it. `timestamp` is the cell version in milliseconds. */
export interface SdkAttributeCell {
  readonly columnName: string;
  readonly columnValue: unknown;
  readonly timestamp?: unknown;
}

/** A row as the SDK returns it. A missing row has no (or an empty) `primaryKey`. */
export interface SdkRow {
  readonly primaryKey?: readonly SdkPrimaryKeyCell[] | null;
  readonly attributes?: readonly SdkAttributeCell[] | null;
}

/**
 * A primary key as requests expect it: one single-key object per column, in schema order, e.g.
 * `[{ timeline_id: 'bob' }, { seq_id: TableStore.Long.fromString('42') }]`.
 */
export type SdkPrimaryKeyInput = readonly Record<string, unknown>[];

/** Attribute columns of a put: one single-key object per column. */
export type SdkAttributeInput = readonly Record<string, unknown>[];

/** `TableStore.Condition` instance (opaque here). */
export interface SdkCondition {
  readonly rowExistenceExpectation: unknown;
}

/** Per-row result of `batchWriteRow`, matched to the request by position. */
export interface SdkBatchWriteRowResult {
  readonly isOk: boolean;
  readonly errorCode?: string | null;
  readonly errorMessage?: string | null;
  readonly tableName?: string;
  readonly primaryKey?: readonly SdkPrimaryKeyCell[] | null;
}

/** One table of a `describeTable` answer (the fields the backend reads). */
export interface SdkDescribeTableResult {
  readonly tableMeta?: {
    readonly tableName?: string;
    readonly primaryKey?: readonly { readonly name: string; readonly type: number; readonly option?: number | null }[];
  };
  readonly tableOptions?: { readonly timeToLive?: number | null; readonly maxVersions?: number | null };
  readonly tableStatus?: number;
}

/** The methods of `TableStore.Client` the backend calls. Each returns a promise without a callback. */
export interface TableStoreClientLike {
  createTable(params: Record<string, unknown>): Promise<unknown>;
  describeTable(params: { tableName: string }): Promise<SdkDescribeTableResult>;
  updateTable(params: Record<string, unknown>): Promise<unknown>;
  putRow(params: Record<string, unknown>): Promise<{ row?: SdkRow; RequestId?: string }>;
  deleteRow(params: Record<string, unknown>): Promise<{ RequestId?: string }>;
  updateRow(params: Record<string, unknown>): Promise<{ RequestId?: string }>;
  batchWriteRow(params: Record<string, unknown>): Promise<{ tables?: readonly SdkBatchWriteRowResult[]; RequestId?: string }>;
  getRow(params: Record<string, unknown>): Promise<{ row?: SdkRow; RequestId?: string }>;
  getRange(params: Record<string, unknown>): Promise<{
    rows?: readonly SdkRow[];
    nextStartPrimaryKey?: readonly SdkPrimaryKeyCell[] | null;
    RequestId?: string;
  }>;
}

/** Client configuration accepted by `new TableStore.Client(config)` (the keys the backend sets). */
export interface SdkClientConfig {
  endpoint: string;
  instancename: string;
  accessKeyId: string;
  accessKeySecret: string;
  stsToken?: string;
  maxRetries?: number;
  httpOptions?: { timeout?: number; agent?: unknown; maxSockets?: number };
}

/**
 * The `tablestore` module namespace: the constants and constructors the backend uses (the wire
 * transport's codec recognises its markers and `Long` class), and the SDK's retry rules
 * (`RetryUtil`, `DefaultRetryPolicy`) that the wire transport reuses.
 */
export interface TableStoreSdk extends SdkProtocol, SdkRetryRules {
  Client: new (config: SdkClientConfig) => TableStoreClientLike;
  Condition: new (rowExistenceExpectation: unknown, columnCondition: unknown) => SdkCondition;
  /** `new SingleColumnCondition(columnName, columnValue, comparator, passIfMissing, latestVersionOnly)`. */
  SingleColumnCondition: new (columnName: string, columnValue: unknown, comparator: unknown, passIfMissing: boolean, latestVersionOnly: boolean) => object;
  ComparatorType: { readonly EQUAL: unknown; readonly LESS_THAN: unknown };
  RowExistenceExpectation: { readonly IGNORE: unknown; readonly EXPECT_EXIST: unknown; readonly EXPECT_NOT_EXIST: unknown };
  ReturnType: { readonly NONE: unknown; readonly Primarykey: unknown };
  Direction: { readonly FORWARD: string; readonly BACKWARD: string };
  Long: { fromString(value: string): Int64Like; fromNumber(value: number): Int64Like };
  INF_MIN: object;
  INF_MAX: object;
  PK_AUTO_INCR: object;
}
