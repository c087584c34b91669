export type { Seq, TimelineEntry, ScanDirection, ScanOptions, AppendOptions, AppendInput, Codec } from './types.js';
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
  RecordWrite,
  RecordPut,
  RecordDelete,
  RecordWriteResult,
  StoredRecord,
  RecordCallOptions,
  RecordScanRequest,
  RecordScanPage,
} from './records.js';
export { estimateRowBytes, splitIntoChunks, utf8Length } from './backend.js';
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
export { MAX_SEQ, MAX_TIMELINE_ID_BYTES, MAX_MESSAGE_ID_BYTES, MIN_TTL_SECONDS } from './validate.js';
