// A device that applies what Messenger.sync returns the way a client should: messages by
// (conversation, seq), events by revision, delete-for-me by hiding. Its view must equal history.
import { expect } from 'vitest';
import type { Messenger, MessengerEntry, MessengerSyncResult } from '../../src/index.js';
import type { Chat } from './fixtures.js';

const keyOf = (conversationId: string, seq: bigint): string => JSON.stringify([conversationId, seq.toString()]);

export class LifeDevice {
  cursor: string | undefined;
  readonly state = new Map<string, MessengerEntry<Chat>>();
  readonly hidden = new Set<string>();
  readonly eventIds: string[] = [];
  limitedSeen = 0;

  constructor(
    readonly messenger: Messenger<Chat>,
    readonly userId: string,
    readonly limit = 5,
  ) {}

  apply(result: MessengerSyncResult<Chat>): void {
    for (const entry of result.entries) {
      const key = keyOf(entry.conversationId, entry.seq);
      const current = this.state.get(key);
      if (current === undefined || (entry.revision ?? 0) > (current.revision ?? 0)) this.state.set(key, entry);
    }
    for (const event of result.events) {
      this.eventIds.push(event.eventId);
      // A read position changes no message (conversations() shows its effect).
      if (event.type === 'read') continue;
      const key = keyOf(event.conversationId, event.seq);
      if (event.type === 'delete') {
        this.hidden.add(key);
        continue;
      }
      const current = this.state.get(key);
      // An event for a message this device never had (before its cursor began) changes nothing here.
      if (current === undefined || event.revision <= (current.revision ?? 0)) continue;
      const { editedAt: _e, editCount: _c, ...rest } = current;
      this.state.set(
        key,
        event.type === 'recall'
          ? { ...rest, message: null as unknown as Chat, recalled: { by: event.by, at: event.at }, revision: event.revision }
          : { ...rest, message: event.message, editedAt: event.editedAt, editCount: event.editCount, revision: event.revision },
      );
    }
  }

  /** Syncs until nothing more is waiting. */
  async drain(): Promise<void> {
    for (let calls = 0; calls < 10_000; calls++) {
      const result = await this.messenger.sync(this.userId, { cursor: this.cursor, limit: this.limit });
      this.apply(result);
      if (result.limited) this.limitedSeen += 1;
      this.cursor = result.cursor;
      if (!result.hasMore) return;
    }
    throw new Error(`sync of ${this.userId} still reports hasMore after 10,000 calls`);
  }

  /** The visible messages of a conversation, newest first (like history). */
  view(conversationId: string): MessengerEntry<Chat>[] {
    return [...this.state.entries()]
      .filter(([key, e]) => e.conversationId === conversationId && !this.hidden.has(key))
      .map(([, e]) => e)
      .sort((a, b) => (a.seq < b.seq ? 1 : a.seq > b.seq ? -1 : 0));
  }
}

/** Every page of a conversation's history (optionally a user's view), newest first. */
export async function fullHistory(m: Messenger<Chat>, conversationId: string, userId?: string, limit = 3): Promise<MessengerEntry<Chat>[]> {
  const out: MessengerEntry<Chat>[] = [];
  let page = await m.history(conversationId, { limit, ...(userId === undefined ? {} : { userId }) });
  out.push(...page.entries);
  for (let i = 0; page.hasMore && i < 10_000; i++) {
    page = await m.history(conversationId, { limit, before: page.next, ...(userId === undefined ? {} : { userId }) });
    out.push(...page.entries);
  }
  return out;
}

/** Asserts that a device shows exactly the final state history shows. */
export async function expectConverged(device: LifeDevice, conversationId: string): Promise<void> {
  const history = await fullHistory(device.messenger, conversationId, device.userId);
  expect(device.view(conversationId), `device of ${device.userId}`).toEqual(history);
}
