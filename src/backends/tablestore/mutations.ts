/**
 * In-place update and delete of timeline rows (the `mutations` capability).
 *
 * - update: GetRow (the row's message id and write id, and whether it exists), then UpdateRow
 *   with EXPECT_EXIST that puts the payload chunks, re-puts the message id and write id unchanged
 *   (so that every cell of the row restarts its TTL together, and an append still settling by
 *   write id finds the row), and deletes payload continuation columns the new payload no longer
 *   uses. Never an upsert: a row deleted or expired in between fails the condition, which is
 *   reported as `NOT_FOUND`. Both requests may be repeated safely, so both are retried.
 * - delete: DeleteRow without condition: deleting an absent row succeeds (idempotent).
 *
 * @packageDocumentation
 */
import type { EntryMutations, MutationCallOptions } from '../../core/mutations.js';
import { entryNotFound } from '../../core/timeline-mutations.js';
import { BackendError } from '../../core/errors.js';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { request } from './request.js';
import { PAYLOAD_CHUNK_BYTES, parseRow, primaryKey, toSdkLong } from './row-layout.js';
import type { OperationContext, Runtime } from './runtime.js';

const CONDITION_FAILED = 'OTSConditionCheckFail';
// Continuation columns a payload of the backend's largest size can use (payload_1 … payload_N).
const MAX_CHUNKS = Math.ceil(MAX_MESSAGE_BYTES / PAYLOAD_CHUNK_BYTES);

/** The TableStore backend's {@link EntryMutations}. */
export function tableStoreMutations(rt: Runtime): EntryMutations {
  return {
    update(table: string, timelineId: string, seq: bigint, payload: Uint8Array, options?: MutationCallOptions): Promise<void> {
      const ctx = rt.context('update', table, timelineId, options?.signal);
      return rt.track(ctx, () => updateRow(rt, ctx, timelineId, seq, payload));
    },
    delete(table: string, timelineId: string, seq: bigint, options?: MutationCallOptions): Promise<void> {
      const ctx = rt.context('delete', table, timelineId, options?.signal);
      return rt.track(ctx, async () => {
        const sdk = rt.sdk;
        await request(rt, ctx, () =>
          rt.client.deleteRow({
            tableName: ctx.table,
            condition: new sdk.Condition(sdk.RowExistenceExpectation.IGNORE, null),
            primaryKey: primaryKey(rt.columns, timelineId, toSdkLong(sdk, seq)),
          }),
        );
      });
    },
  };
}

async function updateRow(rt: Runtime, ctx: OperationContext, timelineId: string, seq: bigint, payload: Uint8Array): Promise<void> {
  const sdk = rt.sdk;
  const columns = rt.columns;
  const key = primaryKey(columns, timelineId, toSdkLong(sdk, seq));
  const read = await request(rt, ctx, () => rt.client.getRow({ tableName: ctx.table, primaryKey: key, maxVersions: 1 }));
  const current = parseRow(read.row, columns);
  if (current === undefined || current.row.timelineId !== timelineId || current.row.seq !== seq) throw entryNotFound(ctx.table, timelineId, seq);
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const put: Record<string, unknown>[] = [];
  const chunks = Math.max(1, Math.ceil(bytes.byteLength / PAYLOAD_CHUNK_BYTES));
  for (let index = 0; index < chunks; index++) {
    const name = index === 0 ? columns.payload : `${columns.payload}_${index}`;
    put.push({ [name]: bytes.subarray(index * PAYLOAD_CHUNK_BYTES, (index + 1) * PAYLOAD_CHUNK_BYTES) });
  }
  if (current.row.messageId !== undefined) put.push({ [columns.messageId]: current.row.messageId });
  if (current.writeId !== undefined) put.push({ [columns.writeId]: current.writeId });
  const unused: string[] = [];
  for (let index = chunks; index < MAX_CHUNKS; index++) unused.push(`${columns.payload}_${index}`);
  const changes: Record<string, unknown>[] = [{ PUT: put }];
  if (unused.length > 0) changes.push({ DELETE_ALL: unused });
  try {
    await request(rt, ctx, () =>
      rt.client.updateRow({
        tableName: ctx.table,
        condition: new sdk.Condition(sdk.RowExistenceExpectation.EXPECT_EXIST, null),
        primaryKey: key,
        updateOfAttributeColumns: changes,
      }),
    );
  } catch (error) {
    // Deleted or expired between the read and the write: still never an upsert.
    if (error instanceof BackendError && error.backendCode === CONDITION_FAILED) throw entryNotFound(ctx.table, timelineId, seq);
    throw error;
  }
}
