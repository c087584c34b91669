import type { StoredRow } from './backend.js';
import type { ResolvedCapabilities } from './capabilities.js';
import type { TimelineError } from './errors.js';
import type { GuardedBackend } from './guarded-backend.js';
import type { TimelineEntry } from './types.js';

/**
 * What a {@link Timeline} needs from its store. A separate file so that `timeline.ts` and
 * `timeline-store.ts` do not import each other. Not part of the public API.
 */
export interface StoreContext<T> {
  readonly table: string;
  readonly backend: GuardedBackend;
  readonly capabilities: ResolvedCapabilities;
  ready(operation: string): Promise<void>;
  /** `parameter` names the message in errors; with an `index`, it is `${parameter}[${index}]`. */
  encode(message: T, parameter: string, timelineId: string, index: number | undefined): Uint8Array;
  decode(row: StoredRow): TimelineEntry<T>;
  wrapError(error: unknown, operation: string, timelineId?: string): TimelineError;
}
