/**
 * The keyed-record capability of {@link TableStoreBackend} (`backend.records`): record tables
 * keyed `(partition STRING, key STRING)` with the value in a BINARY column and the version in a
 * STRING column, conditional writes, point reads and key-ordered scans within a partition.
 *
 * @packageDocumentation
 */
import type { EnsureTableOptions, TableDescription, TableSpec } from '../../core/backend.js';
import type { RecordBackend, RecordCallOptions, RecordLimits, RecordScanPage, RecordScanRequest, RecordWrite, RecordWriteResult, StoredRecord } from '../../core/records.js';
import { MAX_BATCH_ROWS, MAX_KEY_BYTES, MAX_SCAN_ROWS, MAX_VALUE_BYTES } from './limits.js';
import { parseRecord, recordPrimaryKey, recordTableLayout } from './record-layout.js';
import { checkRecordWrites, checkScanRequest, checkString } from './record-checks.js';
import { writeRecordRows } from './record-writes.js';
import { request } from './request.js';
import type { Runtime } from './runtime.js';
import { ensureTableLayout } from './tables.js';

/**
 * Keyed records on TableStore. Obtained as `backend.records`; see {@link RecordBackend}.
 *
 * - `writeRecords`: one PutRow or DeleteRow for a single write, BatchWriteRow for several.
 *   `'absent'` is the row-existence condition EXPECT_NOT_EXIST, `'present'` EXPECT_EXIST, and
 *   `{ version }` EXPECT_EXIST with a column condition `version == given` that fails on a row
 *   without the column. A failed condition is `{ ok: false, conflict: true }`; retryable errors
 *   are re-sent under the backend's `retryStrategy`; an ambiguous outcome (timeout, dropped
 *   connection, 5xx) is a `WriteUncertainError` result: read the version back to settle it.
 * - `getRecord` is a GetRow; `scanRecords` one GetRange within a partition.
 * - TTL: the table's, as for timeline tables; expired records are hidden from reads (see
 *   docs/backends.md for conditions).
 */
export class TableStoreRecords implements RecordBackend {
  /** 200 writes per call, values up to 2,000,000 bytes, partitions and keys up to 1024 UTF-8 bytes, 5000 records per page. */
  readonly recordLimits: RecordLimits = Object.freeze({
    maxBatchWrites: MAX_BATCH_ROWS,
    maxValueBytes: MAX_VALUE_BYTES,
    maxKeyBytes: MAX_KEY_BYTES,
    maxScanPageRecords: MAX_SCAN_ROWS,
  });
  readonly #rt: Runtime;

  /** @internal */
  constructor(rt: Runtime) {
    this.#rt = rt;
  }

  /**
   * Creates the record table if missing (primary key `(partition STRING, key STRING)`, max versions
   * 1, the spec's TTL), or verifies its primary key; an existing table's TTL is changed only with
   * `onTtlMismatch: 'update'`.
   *
   * @throws {TableIncompatibleError} when the existing table's primary key differs, or its TTL differs and `onTtlMismatch` is not `'update'`.
   * @throws {BackendError} when the service fails.
   */
  async ensureRecordTable(spec: TableSpec, options?: EnsureTableOptions): Promise<TableDescription> {
    const ctx = this.#rt.context('ensureRecordTable', spec.table, undefined, options?.signal);
    return this.#rt.track(ctx, () => ensureTableLayout(this.#rt, ctx, recordTableLayout(this.#rt.options.recordColumns), spec, options));
  }

  /**
   * Applies the writes (at most 200), each on its own; one result per write, in input order.
   *
   * @throws {ValidationError} for malformed writes, more than 200, or one record named twice: nothing is sent.
   * @throws {BackendError} when the request fails as a whole and nothing was applied (e.g. the table does not exist).
   * @throws {ClosedError} when the backend is closed.
   */
  async writeRecords(table: string, writes: readonly RecordWrite[], options?: RecordCallOptions): Promise<RecordWriteResult[]> {
    const ctx = this.#rt.context('writeRecords', table, undefined, options?.signal);
    checkRecordWrites(writes, this.recordLimits);
    if (writes.length === 0) return [];
    return this.#rt.track(ctx, () => writeRecordRows(this.#rt, ctx, writes));
  }

  /**
   * Reads one record with GetRow; undefined when it is absent or expired.
   * @throws {BackendError} when the service fails (after retries of retryable errors).
   * @throws {AbortedError} when `options.signal` fires.
   */
  async getRecord(table: string, partition: string, key: string, options?: RecordCallOptions): Promise<StoredRecord | undefined> {
    const ctx = this.#rt.context('getRecord', table, undefined, options?.signal);
    checkString(partition, 'partition', MAX_KEY_BYTES);
    checkString(key, 'key', MAX_KEY_BYTES);
    const columns = this.#rt.options.recordColumns;
    return this.#rt.track(ctx, async () => {
      const response = await request(this.#rt, ctx, () =>
        this.#rt.client.getRow({ tableName: table, primaryKey: recordPrimaryKey(columns, partition, key), maxVersions: 1, columnsToGet: [columns.value, columns.version] }),
      );
      const record = parseRecord(response.row, columns);
      return record !== undefined && record.partition === partition && record.key === key ? record : undefined;
    });
  }

  /**
   * Reads one page of a partition with GetRange, keys in `[start, end)` in UTF-8 byte order.
   * `next` is the inclusive start key of the following page, from the service's
   * `nextStartPrimaryKey`; a page may be shorter than `limit` while `next` is set.
   *
   * @throws {ValidationError} for a limit outside 1 to 5000, or malformed keys.
   * @throws {BackendError} when the service fails (after retries of retryable errors).
   * @throws {AbortedError} when `request.signal` fires.
   */
  async scanRecords(table: string, page: RecordScanRequest): Promise<RecordScanPage> {
    const ctx = this.#rt.context('scanRecords', table, undefined, page?.signal);
    checkScanRequest(page, this.recordLimits);
    const { partition, start, end } = page;
    // An empty range needs no request, and the service rejects a start beyond the end.
    if (start !== undefined && end !== undefined && Buffer.compare(Buffer.from(start), Buffer.from(end)) >= 0) return { records: [] };
    const columns = this.#rt.options.recordColumns;
    return this.#rt.track(ctx, async () => {
      const sdk = this.#rt.sdk;
      const response = await request(this.#rt, ctx, () =>
        this.#rt.client.getRange({
          tableName: table,
          direction: sdk.Direction.FORWARD,
          inclusiveStartPrimaryKey: recordPrimaryKey(columns, partition, start ?? sdk.INF_MIN),
          exclusiveEndPrimaryKey: recordPrimaryKey(columns, partition, end ?? sdk.INF_MAX),
          limit: page.limit,
          maxVersions: 1,
          columnsToGet: [columns.value, columns.version],
        }),
      );
      const records: StoredRecord[] = [];
      for (const row of response.rows ?? []) {
        const record = parseRecord(row, columns);
        if (record !== undefined && record.partition === partition) records.push(record);
      }
      const cells = response.nextStartPrimaryKey ?? [];
      const owner = cells.find((c) => c.name === columns.partition)?.value;
      const next = cells.find((c) => c.name === columns.key)?.value;
      return owner === partition && typeof next === 'string' ? { records, next } : { records };
    });
  }
}
