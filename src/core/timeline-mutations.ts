// Timeline.update and Timeline.delete: in-place changes through the backend's optional
// `mutations` capability. A file of its own so that timeline.ts keeps to appends and reads.
import { TimelineError } from './errors.js';
import type { StoreContext } from './store-context.js';
import type { Seq } from './types.js';
import { checkOptionsObject, checkSeq, checkSignal, throwIfAborted } from './validate.js';

/** Options of {@link Timeline.update} and {@link Timeline.delete}. */
export interface MutationOptions {
  /** Stops the call before it is sent: it rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

function mutationsOf<T>(store: StoreContext<T>, operation: string, timelineId: string) {
  const mutations = store.backend.mutations;
  if (mutations === undefined) {
    throw new TimelineError(
      'NOT_SUPPORTED',
      `the ${store.capabilities.name} backend cannot ${operation} entries in place (it has no \`mutations\` capability); use a backend that has it, such as MemoryBackend or TableStoreBackend`,
      { operation, table: store.table, timelineId },
    );
  }
  return mutations;
}

/** See {@link Timeline.update}. @internal */
export async function updateEntry<T>(store: StoreContext<T>, timelineId: string, seq: Seq, message: T, options: MutationOptions | undefined): Promise<void> {
  checkSeq(seq, 'seq');
  const signal = checkSignal(checkOptionsObject(options).signal);
  const payload = store.encode(message, 'message', timelineId, undefined);
  const mutations = mutationsOf(store, 'update', timelineId);
  await store.ready('update');
  throwIfAborted(signal, 'update');
  try {
    await mutations.update(store.table, timelineId, seq, payload, { signal });
  } catch (error) {
    throw store.wrapError(error, 'update', timelineId);
  }
}

/** See {@link Timeline.delete}. @internal */
export async function deleteEntry<T>(store: StoreContext<T>, timelineId: string, seq: Seq, options: MutationOptions | undefined): Promise<void> {
  checkSeq(seq, 'seq');
  const signal = checkSignal(checkOptionsObject(options).signal);
  const mutations = mutationsOf(store, 'delete', timelineId);
  await store.ready('delete');
  throwIfAborted(signal, 'delete');
  try {
    await mutations.delete(store.table, timelineId, seq, { signal });
  } catch (error) {
    throw store.wrapError(error, 'delete', timelineId);
  }
}

/** The NOT_FOUND error of an update of a missing entry; backends throw it. */
export function entryNotFound(table: string, timelineId: string, seq: Seq): TimelineError {
  return new TimelineError(
    'NOT_FOUND',
    `timeline ${JSON.stringify(timelineId)} of table ${table} has no entry ${seq} (never written, deleted or expired); update changes existing entries only and created nothing`,
    { operation: 'update', table, timelineId },
  );
}
