/**
 * Hand-written schemas for the subset of TableStore's `main.proto` (API version 2015-12-31)
 * that the emulator speaks. Field numbers and types follow the public protocol definition.
 *
 * @packageDocumentation
 */
import type { MessageSchema } from './protobuf.js';

/** `Error { code, message }`: the body of every error response. */
export const ErrorMsg = {
  code: { no: 1, type: 'string', required: true },
  message: { no: 2, type: 'string' },
} as const satisfies MessageSchema;

/** PrimaryKeyType enum values. */
export const PrimaryKeyType = { INTEGER: 1, STRING: 2, BINARY: 3 } as const;
/** PrimaryKeyOption enum values. */
export const PrimaryKeyOption = { AUTO_INCREMENT: 1 } as const;
/** RowExistenceExpectation enum values. */
export const RowExistence = { IGNORE: 0, EXPECT_EXIST: 1, EXPECT_NOT_EXIST: 2 } as const;
/** ReturnType enum values. */
export const ReturnType = { RT_NONE: 0, RT_PK: 1, RT_AFTER_MODIFY: 2 } as const;
/** OperationType enum values (BatchWriteRow). */
export const OperationType = { PUT: 1, UPDATE: 2, DELETE: 3 } as const;
/** Direction enum values (GetRange). */
export const Direction = { FORWARD: 0, BACKWARD: 1 } as const;
/** TableStatus enum values. */
export const TableStatus = { ACTIVE: 1 } as const;

const PrimaryKeySchema = {
  name: { no: 1, type: 'string', required: true },
  type: { no: 2, type: 'enum', required: true },
  option: { no: 3, type: 'enum' },
} as const satisfies MessageSchema;

const DefinedColumnSchema = {
  name: { no: 1, type: 'string', required: true },
  type: { no: 2, type: 'enum', required: true },
} as const satisfies MessageSchema;

const IndexMeta = {
  name: { no: 1, type: 'string', required: true },
  primary_key: { no: 2, type: 'string', repeated: true },
  defined_column: { no: 3, type: 'string', repeated: true },
  index_update_mode: { no: 4, type: 'enum', required: true },
  index_type: { no: 5, type: 'enum', required: true },
  index_sync_phase: { no: 6, type: 'enum' },
} as const satisfies MessageSchema;

/** `TableMeta`. */
export const TableMeta = {
  table_name: { no: 1, type: 'string', required: true },
  primary_key: { no: 2, type: PrimaryKeySchema, repeated: true },
  defined_column: { no: 3, type: DefinedColumnSchema, repeated: true },
  index_meta: { no: 4, type: IndexMeta, repeated: true },
} as const satisfies MessageSchema;

/** `TableOptions`. */
export const TableOptions = {
  time_to_live: { no: 1, type: 'int32' },
  max_versions: { no: 2, type: 'int32' },
  bloom_filter_type: { no: 3, type: 'enum' },
  block_size: { no: 4, type: 'int32' },
  deviation_cell_version_in_sec: { no: 5, type: 'int64' },
  allow_update: { no: 6, type: 'bool' },
} as const satisfies MessageSchema;

const CapacityUnit = {
  read: { no: 1, type: 'int32' },
  write: { no: 2, type: 'int32' },
} as const satisfies MessageSchema;

const ReservedThroughput = {
  capacity_unit: { no: 1, type: CapacityUnit, required: true },
} as const satisfies MessageSchema;

const ReservedThroughputDetails = {
  capacity_unit: { no: 1, type: CapacityUnit, required: true },
  last_increase_time: { no: 2, type: 'int64', required: true },
  last_decrease_time: { no: 3, type: 'int64' },
} as const satisfies MessageSchema;

/** `ConsumedCapacity`. */
export const ConsumedCapacity = {
  capacity_unit: { no: 1, type: CapacityUnit, required: true },
} as const satisfies MessageSchema;

const StreamSpecification = {
  enable_stream: { no: 1, type: 'bool', required: true },
  expiration_time: { no: 2, type: 'int32' },
} as const satisfies MessageSchema;

const StreamDetails = {
  enable_stream: { no: 1, type: 'bool', required: true },
  stream_id: { no: 2, type: 'string' },
  expiration_time: { no: 3, type: 'int32' },
  last_enable_time: { no: 4, type: 'int64' },
} as const satisfies MessageSchema;

const PartitionRange = {
  begin: { no: 1, type: 'bytes', required: true },
  end: { no: 2, type: 'bytes', required: true },
} as const satisfies MessageSchema;

const Condition = {
  row_existence: { no: 1, type: 'enum', required: true },
  column_condition: { no: 2, type: 'bytes' },
} as const satisfies MessageSchema;

const ReturnContent = {
  return_type: { no: 1, type: 'enum' },
  return_column_names: { no: 2, type: 'string', repeated: true },
} as const satisfies MessageSchema;

const TimeRange = {
  start_time: { no: 1, type: 'int64' },
  end_time: { no: 2, type: 'int64' },
  specific_time: { no: 3, type: 'int64' },
} as const satisfies MessageSchema;

const Empty = {} as const satisfies MessageSchema;

/** `CreateTableRequest`. */
export const CreateTableRequest = {
  table_meta: { no: 1, type: TableMeta, required: true },
  reserved_throughput: { no: 2, type: ReservedThroughput, required: true },
  table_options: { no: 3, type: TableOptions },
  partitions: { no: 4, type: PartitionRange, repeated: true },
  stream_spec: { no: 5, type: StreamSpecification },
  index_metas: { no: 7, type: IndexMeta, repeated: true },
} as const satisfies MessageSchema;
/** `CreateTableResponse`. */
export const CreateTableResponse = Empty;

/** `ListTableRequest`. */
export const ListTableRequest = Empty;
/** `ListTableResponse`. */
export const ListTableResponse = {
  table_names: { no: 1, type: 'string', repeated: true },
} as const satisfies MessageSchema;

/** `DeleteTableRequest` (also the shape of `DescribeTableRequest`). */
export const TableNameRequest = {
  table_name: { no: 1, type: 'string', required: true },
} as const satisfies MessageSchema;
/** `DeleteTableResponse`. */
export const DeleteTableResponse = Empty;

/** `UpdateTableRequest`. */
export const UpdateTableRequest = {
  table_name: { no: 1, type: 'string', required: true },
  reserved_throughput: { no: 2, type: ReservedThroughput },
  table_options: { no: 3, type: TableOptions },
  stream_spec: { no: 4, type: StreamSpecification },
} as const satisfies MessageSchema;
/** `UpdateTableResponse`. */
export const UpdateTableResponse = {
  reserved_throughput_details: { no: 1, type: ReservedThroughputDetails, required: true },
  table_options: { no: 2, type: TableOptions, required: true },
  stream_details: { no: 3, type: StreamDetails },
} as const satisfies MessageSchema;

/** `DescribeTableResponse`. */
export const DescribeTableResponse = {
  table_meta: { no: 1, type: TableMeta, required: true },
  reserved_throughput_details: { no: 2, type: ReservedThroughputDetails, required: true },
  table_options: { no: 3, type: TableOptions, required: true },
  table_status: { no: 4, type: 'enum', required: true },
  stream_details: { no: 5, type: StreamDetails },
  shard_splits: { no: 6, type: 'bytes', repeated: true },
  index_metas: { no: 8, type: IndexMeta, repeated: true },
} as const satisfies MessageSchema;

/** `GetRowRequest`. */
export const GetRowRequest = {
  table_name: { no: 1, type: 'string', required: true },
  primary_key: { no: 2, type: 'bytes', required: true },
  columns_to_get: { no: 3, type: 'string', repeated: true },
  time_range: { no: 4, type: TimeRange },
  max_versions: { no: 5, type: 'int32' },
  cache_blocks: { no: 6, type: 'bool' },
  filter: { no: 7, type: 'bytes' },
  start_column: { no: 8, type: 'string' },
  end_column: { no: 9, type: 'string' },
  token: { no: 10, type: 'bytes' },
  transaction_id: { no: 11, type: 'string' },
} as const satisfies MessageSchema;
/** `GetRowResponse`. */
export const GetRowResponse = {
  consumed: { no: 1, type: ConsumedCapacity, required: true },
  row: { no: 2, type: 'bytes', required: true },
  next_token: { no: 3, type: 'bytes' },
} as const satisfies MessageSchema;

/** `PutRowRequest` (field 2 is `row`). */
export const PutRowRequest = {
  table_name: { no: 1, type: 'string', required: true },
  row: { no: 2, type: 'bytes', required: true },
  condition: { no: 3, type: Condition, required: true },
  return_content: { no: 4, type: ReturnContent },
  transaction_id: { no: 5, type: 'string' },
} as const satisfies MessageSchema;

/** `UpdateRowRequest` (field 2 is `row_change`). */
export const UpdateRowRequest = {
  table_name: { no: 1, type: 'string', required: true },
  row_change: { no: 2, type: 'bytes', required: true },
  condition: { no: 3, type: Condition, required: true },
  return_content: { no: 4, type: ReturnContent },
  transaction_id: { no: 5, type: 'string' },
} as const satisfies MessageSchema;

/** `DeleteRowRequest` (field 2 is `primary_key`). */
export const DeleteRowRequest = {
  table_name: { no: 1, type: 'string', required: true },
  primary_key: { no: 2, type: 'bytes', required: true },
  condition: { no: 3, type: Condition, required: true },
  return_content: { no: 4, type: ReturnContent },
  transaction_id: { no: 5, type: 'string' },
} as const satisfies MessageSchema;

/** `PutRowResponse`, `UpdateRowResponse` and `DeleteRowResponse` share this shape. */
export const WriteRowResponse = {
  consumed: { no: 1, type: ConsumedCapacity, required: true },
  row: { no: 2, type: 'bytes' },
} as const satisfies MessageSchema;

const TableInBatchGetRowRequest = {
  table_name: { no: 1, type: 'string', required: true },
  primary_key: { no: 2, type: 'bytes', repeated: true },
  token: { no: 3, type: 'bytes', repeated: true },
  columns_to_get: { no: 4, type: 'string', repeated: true },
  time_range: { no: 5, type: TimeRange },
  max_versions: { no: 6, type: 'int32' },
  cache_blocks: { no: 7, type: 'bool' },
  filter: { no: 8, type: 'bytes' },
  start_column: { no: 9, type: 'string' },
  end_column: { no: 10, type: 'string' },
} as const satisfies MessageSchema;

/** `BatchGetRowRequest`. */
export const BatchGetRowRequest = {
  tables: { no: 1, type: TableInBatchGetRowRequest, repeated: true },
} as const satisfies MessageSchema;

const RowInBatchGetRowResponse = {
  is_ok: { no: 1, type: 'bool', required: true },
  error: { no: 2, type: ErrorMsg },
  consumed: { no: 3, type: ConsumedCapacity },
  row: { no: 4, type: 'bytes' },
  next_token: { no: 5, type: 'bytes' },
} as const satisfies MessageSchema;

const TableInBatchGetRowResponse = {
  table_name: { no: 1, type: 'string', required: true },
  rows: { no: 2, type: RowInBatchGetRowResponse, repeated: true },
} as const satisfies MessageSchema;

/** `BatchGetRowResponse`. */
export const BatchGetRowResponse = {
  tables: { no: 1, type: TableInBatchGetRowResponse, repeated: true },
} as const satisfies MessageSchema;

const RowInBatchWriteRowRequest = {
  type: { no: 1, type: 'enum', required: true },
  row_change: { no: 2, type: 'bytes', required: true },
  condition: { no: 3, type: Condition, required: true },
  return_content: { no: 4, type: ReturnContent },
} as const satisfies MessageSchema;

const TableInBatchWriteRowRequest = {
  table_name: { no: 1, type: 'string', required: true },
  rows: { no: 2, type: RowInBatchWriteRowRequest, repeated: true },
} as const satisfies MessageSchema;

/** `BatchWriteRowRequest`. */
export const BatchWriteRowRequest = {
  tables: { no: 1, type: TableInBatchWriteRowRequest, repeated: true },
  transaction_id: { no: 2, type: 'string' },
} as const satisfies MessageSchema;

const RowInBatchWriteRowResponse = {
  is_ok: { no: 1, type: 'bool', required: true },
  error: { no: 2, type: ErrorMsg },
  consumed: { no: 3, type: ConsumedCapacity },
  row: { no: 4, type: 'bytes' },
} as const satisfies MessageSchema;

const TableInBatchWriteRowResponse = {
  table_name: { no: 1, type: 'string', required: true },
  rows: { no: 2, type: RowInBatchWriteRowResponse, repeated: true },
} as const satisfies MessageSchema;

/** `BatchWriteRowResponse`. */
export const BatchWriteRowResponse = {
  tables: { no: 1, type: TableInBatchWriteRowResponse, repeated: true },
} as const satisfies MessageSchema;

/** `GetRangeRequest`. */
export const GetRangeRequest = {
  table_name: { no: 1, type: 'string', required: true },
  direction: { no: 2, type: 'enum', required: true },
  columns_to_get: { no: 3, type: 'string', repeated: true },
  time_range: { no: 4, type: TimeRange },
  max_versions: { no: 5, type: 'int32' },
  limit: { no: 6, type: 'int32' },
  inclusive_start_primary_key: { no: 7, type: 'bytes', required: true },
  exclusive_end_primary_key: { no: 8, type: 'bytes', required: true },
  cache_blocks: { no: 9, type: 'bool' },
  filter: { no: 10, type: 'bytes' },
  start_column: { no: 11, type: 'string' },
  end_column: { no: 12, type: 'string' },
  token: { no: 13, type: 'bytes' },
  transaction_id: { no: 14, type: 'string' },
  data_block_type_hint: { no: 15, type: 'enum' },
  return_entire_primary_keys: { no: 16, type: 'bool' },
  compress_type_hint: { no: 17, type: 'enum' },
} as const satisfies MessageSchema;

/** `GetRangeResponse`. */
export const GetRangeResponse = {
  consumed: { no: 1, type: ConsumedCapacity, required: true },
  rows: { no: 2, type: 'bytes', required: true },
  next_start_primary_key: { no: 3, type: 'bytes' },
  next_token: { no: 4, type: 'bytes' },
  data_block_type: { no: 5, type: 'enum' },
  compress_type: { no: 6, type: 'enum' },
} as const satisfies MessageSchema;

/** FilterType enum values (`Filter.type`). */
export const FilterType = { SINGLE_COLUMN_VALUE: 1, COMPOSITE_COLUMN_VALUE: 2, COLUMN_PAGINATION: 3 } as const;
/** ComparatorType enum values. */
export const ComparatorType = { EQUAL: 1, NOT_EQUAL: 2, GREATER_THAN: 3, GREATER_EQUAL: 4, LESS_THAN: 5, LESS_EQUAL: 6 } as const;
/** LogicalOperator enum values. */
export const LogicalOperator = { NOT: 1, AND: 2, OR: 3 } as const;

/** `Filter { type, filter }`: the bytes of `Condition.column_condition` and of a read's `filter`. */
export const Filter = {
  type: { no: 1, type: 'enum', required: true },
  filter: { no: 2, type: 'bytes', required: true },
} as const satisfies MessageSchema;

/** `SingleColumnValueFilter`; `column_value` is a PlainBuffer variant (type byte and payload). */
export const SingleColumnValueFilter = {
  comparator: { no: 1, type: 'enum', required: true },
  column_name: { no: 2, type: 'string', required: true },
  column_value: { no: 3, type: 'bytes', required: true },
  filter_if_missing: { no: 4, type: 'bool', required: true },
  latest_version_only: { no: 5, type: 'bool', required: true },
  value_trans_rule: { no: 6, type: 'bytes' },
} as const satisfies MessageSchema;

/** `CompositeColumnValueFilter`; each sub-filter is a nested `Filter` message. */
export const CompositeColumnValueFilter = {
  combinator: { no: 1, type: 'enum', required: true },
  sub_filters: { no: 2, type: Filter, repeated: true },
} as const satisfies MessageSchema;

/** `ColumnPaginationFilter`. */
export const ColumnPaginationFilter = {
  offset: { no: 1, type: 'int32', required: true },
  limit: { no: 2, type: 'int32', required: true },
} as const satisfies MessageSchema;
