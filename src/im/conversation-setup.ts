// How a Messenger turns on conversations: its options, its context, and the hook that moves the
// list rows of each write-diffused send.
import createDebug from 'debug';
import { TimelineError, ValidationError } from '../core/errors.js';
import type { RecordBackend } from '../core/records.js';
import { checkOptionalPositiveInteger, checkOptionsObject } from '../core/validate.js';
import { ConversationRecords } from './conversation-records.js';
import type { ConversationOptions } from './conversation-types.js';
import { DEFAULT_MAX_ROWS, DEFAULT_UNREAD_CAP, type ConversationContext } from './conversations.js';
import { describe, lazyOnce } from './internal.js';
import { derivedTableName } from './messenger-options.js';
import type { InboxMessage, MessengerEntry, StoredMessage } from './messenger-types.js';
import type { SyncTimeline } from './sync-timeline.js';
import type { StoreTimeline } from './store-timeline.js';
import type { Seq } from '../core/types.js';

const log = createDebug('tablestore-timeline:conversations');

/** The Messenger's parts that conversations use. */
export interface ConversationSetup<T> {
  readonly options: ConversationOptions | false | undefined;
  readonly records: RecordBackend | undefined;
  readonly backendName: string;
  readonly store: StoreTimeline<StoredMessage<T>>;
  readonly inbox: SyncTimeline<InboxMessage<T>>;
  readonly now: () => number;
  readonly dedupeWindow: number;
  readonly largeGroups: (userId: string) => Promise<{ conversationId: string; from: Seq | undefined }[]>;
  readonly threshold: number;
  readonly concurrency: number;
}

/**
 * Validates `options.conversations` and builds the context, or undefined when it is off.
 * @throws {ValidationError} for an invalid option.
 * @throws {TimelineError} `NOT_SUPPORTED` when the message store's backend has no keyed records.
 */
export function createConversations<T>(setup: ConversationSetup<T>): ConversationContext<T> | undefined {
  if (setup.options === undefined || setup.options === false) return undefined;
  const opts = checkOptionsObject(setup.options, 'options.conversations') as ConversationOptions;
  const table = derivedTableName(opts.table, setup.store.store.table, 'conv', 'conversations');
  const cap = opts.unreadCap === undefined ? DEFAULT_UNREAD_CAP : opts.unreadCap;
  if (typeof cap !== 'number' || !Number.isSafeInteger(cap) || cap < 1 || cap > 1000) {
    throw new ValidationError('options.conversations.unreadCap', `Expected \`options.conversations.unreadCap\` to be an integer from 1 to 1000, got ${describe(cap)}`);
  }
  const maxRows = checkOptionalPositiveInteger(opts.maxRows, 'options.conversations.maxRows') ?? DEFAULT_MAX_ROWS;
  if (setup.records === undefined) {
    throw new TimelineError(
      'NOT_SUPPORTED',
      `the message store's backend (${setup.backendName}) has no keyed-record capability, which conversations need; use a backend that has it, or leave \`conversations\` off`,
      { operation: 'Messenger' },
    );
  }
  const records = new ConversationRecords(setup.records, table, setup.concurrency);
  return {
    records,
    store: setup.store,
    inbox: setup.inbox,
    now: setup.now,
    dedupeWindow: setup.dedupeWindow,
    largeGroups: setup.largeGroups,
    unreadCap: cap,
    maxRows,
    threshold: setup.threshold,
    concurrency: setup.concurrency,
    ready: lazyOnce(() => records.ensureTable()),
  };
}

/**
 * The send flow's list-row hook, or undefined when conversations are off: moves the list rows of
 * a write-diffused send's users (its inboxes and its sender) to the message. The send flow runs it
 * beside the inbox fan-out, so it adds requests but no round trip, and again whenever a send is
 * taken over or recovered (the rows are monotonic puts: writing them twice changes nothing), so a
 * crash between the fan-out and the rows does not leave them behind for good. A failure is logged,
 * not thrown: the message is stored and delivered, and the conversation keeps its previous place
 * in those lists until its next message (its last message and unread count are read from the
 * conversation itself, so they stay right).
 */
export function listRowWriter<T>(ctx: ConversationContext<T> | undefined): ((entry: MessengerEntry<T>, users: readonly string[]) => Promise<void>) | undefined {
  if (ctx === undefined) return undefined;
  return async (entry, users) => {
    try {
      await ctx.ready();
      const row = { conversationId: entry.conversationId, seq: entry.seq, at: entry.sentAt, kind: users.length <= 2 ? ('direct' as const) : ('group' as const) };
      // No signal: an aborted send still has its message stored, and the list should show it.
      const failed = await ctx.records.touch(users, row, undefined);
      if (failed.length > 0) log('list rows of %s seq %s: %d of %d failed, first: %O', row.conversationId, row.seq, failed.length, users.length, failed[0]!.error);
    } catch (error) {
      log('list rows of %s seq %s failed: %O', entry.conversationId, entry.seq, error);
    }
  };
}
