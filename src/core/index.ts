export type { Seq, TimelineEntry, ScanDirection, ScanOptions, AppendOptions, Codec } from './types.js';
export type {
  BackendCapabilities,
  TableSpec,
  TtlMismatchPolicy,
  EnsureTableOptions,
  TableDescription,
  AppendRow,
  StoredRow,
  AppendRowResult,
  AppendRowSuccess,
  AppendRowFailure,
  BackendAppendOptions,
  ScanPageRequest,
  ScanPage,
  TimelineBackend,
} from './backend.js';
export type {
  RecordBackend,
  RecordLimits,
  RecordExpectation,
  RecordVersionExpectation,
  RecordVersionBelowExpectation,
  RecordWriteApplied,
  RecordWriteConflict,
  RecordWriteFailed,
  RecordWrite,
  RecordPut,
  RecordDelete,
  RecordWriteResult,
  StoredRecord,
  RecordCallOptions,
  RecordScanRequest,
  RecordScanPage,
} from './records.js';

export type { EntryMutations, MutationCallOptions } from './mutations.js';

export { estimateRowBytes, splitIntoChunks, batchBounds } from './batches.js';
export type { BatchLimits } from './batches.js';
export { utf8Length, isWellFormed } from './utf8.js';
export { DEFAULT_CAPABILITIES, resolveCapabilities } from './capabilities.js';
export type { ResolvedCapabilities } from './capabilities.js';
export { GuardedBackend } from './guarded-backend.js';
export { BoundedMap } from './bounded-map.js';
export type { BoundedMapOptions } from './bounded-map.js';
export { checkSeq } from './validate.js';
export { bigintReplacer, parseSeq } from './wire.js';
export {
  TimelineError,
  ValidationError,
  ClosedError,
  AbortedError,
  BackendError,
  WriteUncertainError,
  TableIncompatibleError,
  PartialWriteError,
  InvalidCursorError,
  isTimelineError,
} from './errors.js';
export type { TimelineErrorCode, TimelineErrorOptions, BackendErrorOptions, RowOutcome, RowWritten, RowFailed } from './errors.js';
export { jsonCodec, CodecValueError } from './codec.js';
export { TimelineStore } from './timeline-store.js';
export type { TimelineStoreOptions, BatchItem, AppendBatchOptions } from './timeline-store.js';
export { Timeline } from './timeline.js';
export type { AppendManyOptions } from './timeline.js';
export type { MutationOptions } from './timeline-mutations.js';
export { MAX_SEQ, MAX_TIMELINE_ID_BYTES, MAX_MESSAGE_ID_BYTES, MIN_TTL_SECONDS, MAX_TTL_SECONDS } from './validate.js';
