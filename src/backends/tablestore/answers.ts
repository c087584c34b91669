/**
 * The answers the backend reads from its requests, whichever way they were decoded: per-row
 * outcomes of a write, pages of rows of a read. The SDK transport gets them by converting the
 * SDK's results (sdk-answers.ts); the wire transport decodes them straight from the answer's
 * bytes (direct/). The code that acts on them (send.ts, reads.ts, settle.ts) is the same for both.
 *
 * @packageDocumentation
 */
import type { StoredRow } from '../../core/backend.js';
import type { ParsedRow } from './row-layout.js';

/**
 * One row of a write answer. `seq` is undefined when the service applied the row but its key did
 * not come back (the caller settles it like an ambiguous write).
 */
export type RowOutcome = { readonly ok: true; readonly seq: bigint | undefined } | { readonly ok: false; readonly code: string; readonly message: string };

/** The per-row outcomes of a PutRow (one) or BatchWriteRow (one per row, in request order). */
export interface WriteAnswer {
  readonly outcomes: readonly RowOutcome[];
  readonly requestId: string | undefined;
}

/** One page of a timeline: its rows (those of the timeline asked for, with a payload) and where the next page starts. */
export interface PageAnswer {
  readonly rows: StoredRow[];
  readonly next: bigint | undefined;
}

/**
 * One page read to settle ambiguous writes: every row with a primary key, payload or not, with
 * its write id and write time; `scanned` counts every row of the page (parsed or not).
 */
export interface WritesPageAnswer {
  readonly rows: ParsedRow[];
  readonly scanned: number;
  readonly next: bigint | undefined;
}
