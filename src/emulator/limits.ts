/**
 * The APIs the emulator implements and the service limits it enforces.
 *
 * @packageDocumentation
 */

/** The APIs the emulator implements. */
export const SUPPORTED_APIS = [
  'CreateTable',
  'ListTable',
  'DescribeTable',
  'UpdateTable',
  'DeleteTable',
  'GetRow',
  'PutRow',
  'UpdateRow',
  'DeleteRow',
  'GetRange',
  'BatchGetRow',
  'BatchWriteRow',
] as const;

/**
 * TableStore API names the emulator knows but does not implement: answered with the clear
 * "not supported by the emulator" error and counted by name in the stats.
 */
export const UNSUPPORTED_APIS = [
  'ComputeSplitPointsBySize',
  'LoadTable',
  'UnloadTable',
  'ListStream',
  'DescribeStream',
  'GetShardIterator',
  'GetStreamRecord',
  'CreateIndex',
  'DropIndex',
  'CreateSearchIndex',
  'ListSearchIndex',
  'DescribeSearchIndex',
  'UpdateSearchIndex',
  'DeleteSearchIndex',
  'Search',
  'ComputeSplits',
  'ParallelScan',
  'SQLQuery',
  'StartLocalTransaction',
  'CommitTransaction',
  'AbortTransaction',
  'BulkImport',
  'BulkExport',
] as const;

/** Every API name the stats count by name: the supported ones and {@link UNSUPPORTED_APIS}. */
export const KNOWN_APIS: ReadonlySet<string> = new Set<string>([...SUPPORTED_APIS, ...UNSUPPORTED_APIS]);

/** Name of an API the emulator implements. */
export type SupportedApi = (typeof SUPPORTED_APIS)[number];

/** Shape of {@link LIMITS}. */
export interface EmulatorLimits {
  /** Most primary-key columns of a table. */
  readonly primaryKeyColumns: number;
  /** Largest STRING or BINARY primary-key value, in bytes. */
  readonly primaryKeyValueBytes: number;
  /** Largest attribute value, in bytes. */
  readonly attributeValueBytes: number;
  /** Most attribute columns written in one row. */
  readonly columnsPerRow: number;
  /** Most names in `columns_to_get`. */
  readonly columnsToGet: number;
  /** Most rows of one BatchWriteRow. */
  readonly batchWriteRows: number;
  /** Most rows of one BatchGetRow. */
  readonly batchGetRows: number;
  /** Most rows of one GetRange page. */
  readonly rangeRows: number;
  /** Most row bytes of one GetRange page. */
  readonly rangeBytes: number;
  /** Largest request body, in bytes. */
  readonly requestBytes: number;
  /** Smallest TTL other than -1, in seconds. */
  readonly minTimeToLive: number;
}

/** Service limits the emulator enforces. */
export const LIMITS: EmulatorLimits = Object.freeze({
  primaryKeyColumns: 4,
  primaryKeyValueBytes: 1024,
  attributeValueBytes: 2 * 1024 * 1024,
  columnsPerRow: 1024,
  columnsToGet: 128,
  batchWriteRows: 200,
  batchGetRows: 100,
  rangeRows: 5000,
  rangeBytes: 4 * 1024 * 1024,
  requestBytes: 4 * 1024 * 1024,
  minTimeToLive: 86400,
});
