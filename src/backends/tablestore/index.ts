/**
 * `tablestore-timeline/tablestore`: the Alibaba Cloud TableStore backend. The only entry that loads
 * the official `tablestore` SDK (an optional peer dependency: `npm install tablestore`).
 *
 * @packageDocumentation
 */
export { TableStoreBackend } from './tablestore-backend.js';
export type { TableStoreBackendOptions } from './options.js';
export { createRetryStrategy } from './retry.js';
export type { RetryStrategy, RetryContext, RetryStrategyOptions } from './retry.js';
export type { TableStoreColumns } from './row-layout.js';
export { TableStoreRecords } from './records.js';
export type { TableStoreRecordColumns } from './record-layout.js';
export { decodeSdkError, classifyCode, ALWAYS_RETRYABLE_CODES, AMBIGUOUS_CODES } from './errors.js';
export type { DecodedError, ErrorKind } from './errors.js';
