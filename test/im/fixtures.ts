// Shared set-up of the IM tests.
import { expect } from 'vitest';
import {
  Messenger,
  StoreTimeline,
  SyncTimeline,
  TimelineStore,
  ValidationError,
  type InboxMessage,
  type MessengerEntry,
  type MessengerOptions,
  type StoredMessage,
  type SyncResult,
  type TimelineBackend,
} from '../../src/index.js';
import { uniqueTable, type TestBackend } from './backends.js';

export interface Chat {
  text: string;
}

export const WEEK_SECONDS = 7 * 86_400;
export const SECRET = 'test-cursor-secret-0123456789';

/** A fresh message store (no TTL) and inbox store (7-day TTL) on the harness's backend. */
export function stores<M, I>(t: TestBackend, backend: TimelineBackend = t.backend) {
  const history = new TimelineStore<M>({ backend, table: uniqueTable('im_store') });
  const inbox = new TimelineStore<I>({ backend, table: uniqueTable('im_sync'), ttlSeconds: WEEK_SECONDS });
  return { history, inbox };
}

/** A Messenger over fresh tables, with the harness's clock and a shared cursor secret. */
export function messenger(
  t: TestBackend,
  options: Partial<MessengerOptions<Chat>> = {},
  backend: TimelineBackend = t.backend,
): { messenger: Messenger<Chat>; store: StoreTimeline<StoredMessage<Chat>>; sync: SyncTimeline<InboxMessage<Chat>> } {
  const { history, inbox } = stores<StoredMessage<Chat>, InboxMessage<Chat>>(t, backend);
  const store = new StoreTimeline(history);
  const sync = new SyncTimeline(inbox, { cursorSecret: SECRET, now: t.now });
  const m = new Messenger<Chat>({ store, sync, largeGroupThreshold: 500, largeGroupsOf: () => [], ...options });
  return { messenger: m, store, sync };
}

/** One device of a user: keeps its own cursor and everything it received. */
export class Device {
  cursor: string | undefined;
  readonly received: MessengerEntry<Chat>[] = [];
  limitedSeen = 0;

  constructor(
    readonly userId: string,
    readonly sync: (userId: string, options: { cursor?: string; limit?: number }) => Promise<SyncResult<MessengerEntry<Chat>>>,
    readonly limit = 7,
  ) {}

  /** Syncs until nothing more is waiting. */
  async drain(): Promise<void> {
    // Bounded, so that a sync that never stops reporting `hasMore` fails instead of hanging.
    for (let calls = 0; calls < 10_000; calls++) {
      const result = await this.sync(this.userId, { cursor: this.cursor, limit: this.limit });
      this.received.push(...result.entries);
      if (result.limited) this.limitedSeen += 1;
      this.cursor = result.cursor;
      if (!result.hasMore) return;
    }
    throw new Error(`sync of ${this.userId} still reports hasMore after 10,000 calls`);
  }

  /** The texts received, in order. */
  texts(): string[] {
    return this.received.map((e) => e.message.text);
  }
}

/** Asserts that `fn` rejects with a ValidationError naming `parameter`. */
export async function expectInvalid(fn: () => unknown, parameter: string): Promise<ValidationError> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected a ValidationError for ${parameter}`).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).parameter).toBe(parameter);
  expect((error as ValidationError).code).toMatch(/^(INVALID_ARGUMENT|CODEC|MESSAGE_TOO_LARGE)$/);
  expect((error as ValidationError).message).toContain(parameter);
  return error as ValidationError;
}

/** Every entry of a timeline, oldest first. */
export async function all<T>(store: TimelineStore<T>, timelineId: string) {
  const out = [];
  for await (const entry of store.timeline(timelineId).scan()) out.push(entry);
  return out;
}
