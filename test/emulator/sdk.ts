/**
 * Test helpers: the real `tablestore` SDK (loaded with `createRequire`, typed with the small
 * subset these tests use, so that no ambient `declare module 'tablestore'` can clash with other
 * declarations in the repository) and an emulator + client pair.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

/** An `int64-buffer` Int64 as the SDK returns and accepts it. */
export interface Int64 {
  toString(radix?: number): string;
  toNumber(): number;
  toBuffer(): Buffer;
}

/** The callback-or-promise SDK methods the tests call. */
export type SdkMethod = (params: Record<string, unknown>) => Promise<any>;

/** The subset of `TableStore.Client` used here. */
export interface SdkClient {
  createTable: SdkMethod;
  listTable: SdkMethod;
  describeTable: SdkMethod;
  updateTable: SdkMethod;
  deleteTable: SdkMethod;
  getRow: SdkMethod;
  putRow: SdkMethod;
  updateRow: SdkMethod;
  deleteRow: SdkMethod;
  getRange: SdkMethod;
  batchGetRow: SdkMethod;
  batchWriteRow: SdkMethod;
  [name: string]: unknown;
}

/** The subset of the SDK's module object used here. */
export interface TableStoreSdk {
  Client: new (config: Record<string, unknown>) => SdkClient;
  Condition: new (expectation: number, columnCondition: unknown) => unknown;
  SingleColumnCondition: new (name: string, value: unknown, comparator: number, passIfMissing?: boolean, latestVersionOnly?: boolean) => { comparator: number };
  CompositeCondition: new (operator: number) => { addSubCondition(c: unknown): void; combinator: number };
  ColumnPaginationFilter: new (limit: number, offset: number) => unknown;
  LogicalOperator: { NOT: number; AND: number; OR: number };
  RowExistenceExpectation: { IGNORE: number; EXPECT_EXIST: number; EXPECT_NOT_EXIST: number };
  ReturnType: { NONE: number; Primarykey: number; AfterModify: number };
  Direction: { FORWARD: string; BACKWARD: string };
  ComparatorType: { EQUAL: number; NOT_EQUAL: number; GREATER_THAN: number; GREATER_EQUAL: number; LESS_THAN: number; LESS_EQUAL: number };
  Long: { fromString(s: string): Int64; fromNumber(n: number): Int64 };
  INF_MIN: object;
  INF_MAX: object;
  PK_AUTO_INCR: object;
  PlainBufferBuilder: {
    serializeForPutRow(pk: unknown[], attrs: unknown[]): Buffer;
    serializeForUpdateRow(pk: unknown[], attrs: unknown[]): Buffer;
    serializeForDeleteRow(pk: unknown[]): Buffer;
    serializePrimaryKey(pk: unknown[]): Buffer;
  };
  PlainBufferInputStream: new (b: { buffer: ArrayBufferLike; offset: number; limit: number }) => unknown;
  PlainBufferCodedInputStream: new (s: unknown) => { readRow(): any; readRows(): any[] };
}

// Resolved from the repository root (vitest's working directory): the source is typed as CommonJS,
// so `import.meta` is not available to locate this file.
const requireFromRoot = createRequire(join(process.cwd(), 'package.json'));

/** The real SDK. */
export const TableStore = requireFromRoot('tablestore') as TableStoreSdk;

/** `new TableStore.Condition(IGNORE, null)`. */
export const IGNORE = (): unknown => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
/** `new TableStore.Condition(EXPECT_EXIST, null)`. */
export const EXPECT_EXIST = (): unknown => new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null);
/** `new TableStore.Condition(EXPECT_NOT_EXIST, null)`. */
export const EXPECT_NOT_EXIST = (): unknown => new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);

/** `TableStore.Long.fromString(String(v))`. */
export const long = (v: bigint | number | string): Int64 => TableStore.Long.fromString(String(v));

/** An SDK client for an emulator, with retries off unless asked (the SDK's retry count is process-global). */
export function clientFor(emu: Emulator, extra: Record<string, unknown> = {}): SdkClient {
  return new TableStore.Client({ ...emu.clientConfig(), maxRetries: 0, ...extra });
}

/** A manual clock in milliseconds. */
export class ManualClock {
  ms: number;
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.ms = start;
  }
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Starts an emulator on 127.0.0.1:0 with a manual clock, and an SDK client for it. */
export async function setup(options: EmulatorOptions = {}): Promise<{ emu: Emulator; client: SdkClient; clock: ManualClock }> {
  const clock = new ManualClock();
  const emu = await startEmulator({ clock: clock.now, ...options });
  return { emu, client: clientFor(emu), clock };
}

/** Table params for `createTable`. */
export function tableParams(
  tableName: string,
  primaryKey: { name: string; type: string; option?: string }[],
  tableOptions: Record<string, unknown> = { timeToLive: -1, maxVersions: 1 },
): Record<string, unknown> {
  return { tableMeta: { tableName, primaryKey }, reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions };
}

/** The `(timeline_id STRING, seq_id INTEGER AUTO_INCREMENT)` layout of the timeline tables. */
export const TIMELINE_PK = [
  { name: 'timeline_id', type: 'STRING' },
  { name: 'seq_id', type: 'INTEGER', option: 'AUTO_INCREMENT' },
];

/** Captures the rejection of a promise (fails if it resolves). */
export async function failure(p: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: unknown; message: string };
    return { code: err.code, message: String(err.message) };
  }
  throw new Error('expected the call to fail');
}

/** Reads an SDK Int64 (or number) exactly as a bigint. */
export function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return BigInt((v as Int64).toString(10));
}

/** `[{name: value}]` from the SDK's `[{name, value}]` shape. */
export function pkParam(pk: { name: string; value: unknown }[]): Record<string, unknown>[] {
  return pk.map((c) => ({ [c.name]: c.value }));
}

/** Attribute columns of an SDK row as `{ name: value }` (latest version first wins). */
export function attrs(row: { attributes?: { columnName: string; columnValue: unknown }[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of row.attributes ?? []) if (!(a.columnName in out)) out[a.columnName] = a.columnValue;
  return out;
}
