/**
 * TableStore's service limits as this backend declares them, and its capabilities.
 *
 * @packageDocumentation
 */
import type { BackendCapabilities } from '../../core/backend.js';

/** TableStore's row limit for one BatchWriteRow. */
export const MAX_BATCH_ROWS = 200;
/** TableStore's 4 MB request limit, minus room for protobuf framing and the table name. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 64 * 1024;
/** Largest encoded message: fits one 4 MB PutRow with the largest ids and the row's framing. */
export const MAX_MESSAGE_BYTES = 4_000_000;
/** TableStore's row limit for one GetRange page. */
export const MAX_SCAN_ROWS = 5000;
/** TableStore's limit on one primary-key STRING value, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** TableStore's limit on one attribute value (2 MB, counted the smaller way). */
export const MAX_VALUE_BYTES = 2 * 1000 * 1000;
/**
 * The service refuses requests whose `x-ots-date` is more than 15 minutes off its clock, so a row
 * written by a request sent at local time T carries a cell timestamp after T - 15 min.
 */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** The service's shortest TTL other than -1 (forever): one day. */
export const MIN_TTL_SECONDS = 86_400;
/** The longest TTL the SDK can send: a signed 32-bit field. */
export const MAX_TTL_SECONDS = 2 ** 31 - 1;
/** Node's longest timer, in ms: a longer socket timeout is truncated to it, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The capabilities of a TableStore backend; `orderedBatches` as configured or as last observed. */
export function tableStoreCapabilities(orderedBatches: boolean, rowOverheadBytes: number): BackendCapabilities {
  return Object.freeze({
    name: 'tablestore',
    maxBatchRows: MAX_BATCH_ROWS,
    maxBatchBytes: MAX_BATCH_BYTES,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxScanPageRows: MAX_SCAN_ROWS,
    // TableStore filters expired cells when reading, by their version timestamp (ms).
    ttlGranularitySeconds: 0,
    orderedBatches,
    rowOverheadBytes,
    // The service's TTL range: at least one day, and a 32-bit field the SDK would wrap.
    minTtlSeconds: MIN_TTL_SECONDS,
    maxTtlSeconds: MAX_TTL_SECONDS,
  });
}
