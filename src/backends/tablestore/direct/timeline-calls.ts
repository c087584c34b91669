/**
 * The direct capability of the wire transport: the backend's hot requests (appends, timeline
 * pages, GetRow) encoded from its own rows and decoded straight to its answers (answers.ts),
 * sent through the {@link WireClient} with the same signing, errors and SDK retry rules as every
 * other call. The SDK transport, and a client the caller gave, have no such capability: the
 * backend then builds SDK params and converts the SDK's results (sdk-answers.ts), as before.
 *
 * An answer the direct decoders leave aside (see unusual-answer.ts; any failure of theirs) is
 * decoded again by the SDK-shaped decoder and converted as on the SDK transport, so that it gets
 * that path's result or error.
 *
 * @packageDocumentation
 */
import type { StoredRow } from '../../../core/backend.js';
import type { PageAnswer, WriteAnswer, WritesPageAnswer } from '../answers.js';
import { parseRow, type ResolvedColumns } from '../row-layout.js';
import { log, type Runtime } from '../runtime.js';
import { batchOutcomeOfSdk, pageOfSdk, putOutcomeOfSdk, writesPageOfSdk, type SdkRangeResult } from '../sdk-answers.js';
import type { SdkBatchWriteRowResult, SdkRow, TableStoreSdk } from '../sdk-types.js';
import { wireCodec, type WireCodec, type WireOperation } from '../wire/codec.js';
import { WireClient } from '../wire/wire-client.js';
import type { RangeQuery } from '../timeline-requests.js';
import { encodeBatchWriteBody, encodePutRowBody, type DirectAppendRow } from './append-body.js';
import { encodeGetRangeBody, encodeGetRowBody } from './read-bodies.js';
import { decodeGetRowAnswer, decodePageAnswer, decodeWritesPageAnswer } from './read-answers.js';
import { decodeBatchWriteAnswer, decodePutRowAnswer } from './write-answers.js';

/** The backend's hot requests on the wire transport; see the module comment. */
export interface DirectTimelineCalls {
  /** Appends rows to one table: a PutRow for one row, a BatchWriteRow for several (at most 200). */
  append(table: string, rows: readonly DirectAppendRow[]): Promise<WriteAnswer>;
  /** One page of one timeline: its rows with a payload, and the next page's start. */
  page(table: string, query: RangeQuery): Promise<PageAnswer>;
  /** One page read to settle ambiguous writes: every row, with write ids and write times. */
  writesPage(table: string, query: RangeQuery): Promise<WritesPageAnswer>;
  /** The row at `(timelineId, seq)` as `parseRow` reads it; the caller checks it is that entry. */
  getRow(table: string, timelineId: string, seq: bigint): Promise<StoredRow | undefined>;
}

/**
 * A decoder that reads an answer directly and, should that fail, as the SDK transport would: the
 * SDK-shaped decoder (whose error, if any, is the answer's) and the conversion of its result.
 */
function orAsSdk<T>(codec: () => WireCodec, op: WireOperation, direct: (body: Buffer) => T, viaSdk: (result: any) => T): (body: Buffer) => T {
  return (body) => {
    try {
      return direct(body);
    } catch (error) {
      log('%s answer left to the SDK-shaped decoder: %s', op, error instanceof Error ? error.message : String(error));
      return viaSdk(codec().decodeResponse(op, body));
    }
  };
}

function createCalls(client: WireClient, sdk: TableStoreSdk, columns: ResolvedColumns): DirectTimelineCalls {
  // Made on first need: most backends never meet an answer the direct decoders leave aside.
  let made: WireCodec | undefined;
  const codec = (): WireCodec => (made ??= wireCodec(sdk));
  const putRow = orAsSdk(codec, 'PutRow', (body) => [decodePutRowAnswer(body, columns)], (result: { row?: SdkRow }) => [putOutcomeOfSdk(result, columns)]);
  const batch = orAsSdk(
    codec,
    'BatchWriteRow',
    (body) => decodeBatchWriteAnswer(body, columns),
    (result: { tables?: readonly SdkBatchWriteRowResult[] }) => (result.tables ?? []).map((r) => batchOutcomeOfSdk(r, columns)),
  );
  return {
    append(table, rows) {
      if (rows.length === 1) {
        return client.exchange('PutRow', encodePutRowBody(table, columns, rows[0]!), (body, requestId) => ({ outcomes: putRow(body), requestId }));
      }
      return client.exchange('BatchWriteRow', encodeBatchWriteBody(table, columns, rows), (body, requestId) => ({ outcomes: batch(body), requestId }));
    },
    page(table, query) {
      const decode = orAsSdk(codec, 'GetRange', (body) => decodePageAnswer(body, columns, query.timelineId), (result: SdkRangeResult) => pageOfSdk(result, columns, query.timelineId));
      return client.exchange('GetRange', encodeGetRangeBody(table, columns, query), decode);
    },
    writesPage(table, query) {
      const decode = orAsSdk(codec, 'GetRange', (body) => decodeWritesPageAnswer(body, columns, query.timelineId), (result: SdkRangeResult) => writesPageOfSdk(result, columns, query.timelineId));
      return client.exchange('GetRange', encodeGetRangeBody(table, columns, query), decode);
    },
    getRow(table, timelineId, seq) {
      const decode = orAsSdk(codec, 'GetRow', (body) => decodeGetRowAnswer(body, columns, timelineId), (result: { row?: SdkRow }) => parseRow(result.row, columns)?.row);
      return client.exchange('GetRow', encodeGetRowBody(table, columns, timelineId, seq), decode);
    },
  };
}

const known = new WeakMap<Runtime, DirectTimelineCalls | null>();

/**
 * The direct calls of a backend whose client is the wire transport's {@link WireClient};
 * undefined for the SDK's client or one the caller gave. Only valid once connected (inside
 * `Runtime.track`).
 */
export function directTimelineCalls(rt: Runtime): DirectTimelineCalls | undefined {
  let calls = known.get(rt);
  if (calls === undefined) {
    const client = rt.client;
    calls = client instanceof WireClient ? createCalls(client, rt.sdk, rt.columns) : null;
    known.set(rt, calls);
  }
  return calls ?? undefined;
}
