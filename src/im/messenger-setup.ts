// The Messenger's construction: checks its options and builds the context of each flow (send,
// sync, conversations, lifecycle) that the Messenger's methods hand their work to.
import { TimelineError, ValidationError } from '../core/errors.js';
import { GuardedBackend } from '../core/guarded-backend.js';
import { checkOptionalPositiveInteger, checkOptionsObject } from '../core/validate.js';
import type { ChangeContext } from './change-flow.js';
import { createConversations, listRowWriter } from './conversation-setup.js';
import type { ConversationContext } from './conversations.js';
import { DEFAULT_FAN_OUT_CONCURRENCY } from './fan-out.js';
import { checkClock, checkDedupeWindow, checkOptionalBoolean, checkOptionalFunction, describe, lazyOnce } from './internal.js';
import { buildLifecycle, checkJournal, checkRetention, DEFAULT_CLAIM_WAIT_MS, DEFAULT_LEASE_MS } from './messenger-options.js';
import { groupsOf, type SyncContext } from './messenger-sync.js';
import type { MessengerOptions } from './messenger-types.js';
import type { SendContext } from './send-flow.js';
import { SendJournal } from './send-journal.js';
import { StoreTimeline } from './store-timeline.js';
import { SyncTimeline } from './sync-timeline.js';

/** Default of {@link MessengerOptions.largeGroupThreshold}. */
export const DEFAULT_LARGE_GROUP_THRESHOLD = 500;
const DEFAULT_RECENT_SENDS = 1000;

/** What a Messenger is made of, from its checked options. */
export interface MessengerParts<T> {
  readonly threshold: number;
  readonly send: SendContext<T>;
  readonly sync: SyncContext<T>;
  readonly conversations: ConversationContext<T> | undefined;
  readonly lifecycle: ChangeContext<T> | undefined;
  /** Why the lifecycle is off (for the `NOT_SUPPORTED` error of its methods). */
  readonly lifecycleOff: string | undefined;
  readonly recentSends: number;
  readonly deliverToSender: boolean;
  readonly recoverEvery: number | undefined;
}

/**
 * Checks the Messenger's options and builds its parts. Tables are created lazily, each once
 * (`ready` of each context; a failed creation is retried by the next call).
 * @throws {ValidationError} for a missing or invalid option, or stores whose retention does not
 *   fit their role, unless allowed.
 * @throws {TimelineError} `NOT_SUPPORTED` when the journal (or explicit lifecycle, or conversations)
 *   needs a capability the message store's backend lacks.
 */
export function messengerParts<T>(options: MessengerOptions<T>): MessengerParts<T> {
  const opts = checkOptionsObject(options) as Partial<MessengerOptions<T>>;
  if (!(opts.store instanceof StoreTimeline)) {
    throw new ValidationError('options.store', `Expected \`options.store\` to be a StoreTimeline, got ${describe(opts.store)}`);
  }
  if (!(opts.sync instanceof SyncTimeline)) {
    throw new ValidationError('options.sync', `Expected \`options.sync\` to be a SyncTimeline, got ${describe(opts.sync)}`);
  }
  if (opts.store.store.backend === opts.sync.store.backend && opts.store.store.table === opts.sync.store.table) {
    throw new ValidationError('options.sync', 'Expected `options.sync` to use another table than `options.store`: conversation and user ids would share timelines');
  }
  checkRetention(opts);
  const threshold = opts.largeGroupThreshold === undefined ? DEFAULT_LARGE_GROUP_THRESHOLD : opts.largeGroupThreshold;
  if (threshold !== Number.POSITIVE_INFINITY && (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 0)) {
    throw new ValidationError('options.largeGroupThreshold', `Expected \`options.largeGroupThreshold\` to be an integer from 0 and up, or Infinity, got ${describe(threshold)}`);
  }
  const largeGroupsOf = checkOptionalFunction<NonNullable<MessengerOptions<T>['largeGroupsOf']>>(opts.largeGroupsOf, 'options.largeGroupsOf');
  if (largeGroupsOf === undefined && threshold !== Number.POSITIVE_INFINITY) {
    throw new ValidationError(
      'options.largeGroupsOf',
      'Expected `options.largeGroupsOf` to be a function returning the ids of the user\'s groups over `largeGroupThreshold`: without it, members of a large group never receive its messages. Pass `largeGroupThreshold: Infinity` to always fan out instead',
    );
  }
  const now = checkClock(opts.now) ?? opts.sync.clock;
  const concurrency = checkOptionalPositiveInteger(opts.concurrency, 'options.concurrency') ?? DEFAULT_FAN_OUT_CONCURRENCY;
  const recentSends = opts.recentSends === undefined ? DEFAULT_RECENT_SENDS : opts.recentSends;
  if (typeof recentSends !== 'number' || !Number.isSafeInteger(recentSends) || recentSends < 0) {
    throw new ValidationError('options.recentSends', `Expected \`options.recentSends\` to be an integer from 0 and up, got ${describe(recentSends)}`);
  }
  const dedupeWindow = checkDedupeWindow(opts.dedupeWindow);
  const journal = checkJournal(opts.journal, opts.store.store.table);
  // Through the core's guard: the same closed, abort and error rules as the timeline calls.
  const records = GuardedBackend.wrap(opts.store.store.backend).records;
  const backendName = opts.store.store.backend.capabilities?.name ?? 'custom';
  let sendJournal: SendJournal | undefined;
  if (journal !== undefined) {
    if (records === undefined) {
      throw new TimelineError(
        'NOT_SUPPORTED',
        `the message store's backend (${backendName}) has no keyed-record capability, which the send journal needs; use a backend that has it, or pass \`journal: false\` to accept that re-sends racing across processes may store twice and that a crash mid fan-out is repaired only by a re-send`,
        { operation: 'Messenger' },
      );
    }
    sendJournal = new SendJournal(records, journal.table);
  }
  const sync: SyncContext<T> = { store: opts.store, inbox: opts.sync, largeGroupsOf: largeGroupsOf ?? (() => []), now, concurrency };
  // Conversations (issue 16): built before the send context, which moves list rows.
  const conversations = createConversations({
    options: opts.conversations,
    records,
    backendName,
    store: opts.store,
    inbox: opts.sync,
    now,
    dedupeWindow,
    largeGroups: (userId) => groupsOf(sync, userId),
    threshold,
    concurrency,
  });
  const leaseMs = journal?.leaseMs ?? DEFAULT_LEASE_MS;
  const claimWaitMs = journal?.claimWaitMs ?? DEFAULT_CLAIM_WAIT_MS;
  const send: SendContext<T> = {
    store: opts.store,
    inbox: opts.sync,
    journal: sendJournal,
    now,
    leaseMs,
    claimWaitMs,
    threshold,
    dedupeWindow,
    concurrency,
    checkBeforeSend: checkOptionalBoolean(opts.checkBeforeSend, 'options.checkBeforeSend') ?? true,
    onDelivered: checkOptionalFunction(opts.onDelivered, 'options.onDelivered'),
    listRows: listRowWriter(conversations),
    ready: journal === undefined ? () => Promise.resolve() : lazyOnce(() => sendJournal!.ensureTable({ table: journal.table, ttlSeconds: journal.ttlSeconds })),
  };
  const deliverToSender = checkOptionalBoolean(opts.deliverToSender, 'options.deliverToSender') ?? true;
  // The lifecycle's `ready` creates its own table, which the context names once built.
  let lifecycle: ChangeContext<T> | undefined;
  const built = buildLifecycle(opts, {
    inbox: opts.sync,
    journal: sendJournal,
    now,
    threshold,
    deliverToSender,
    concurrency,
    dedupeWindow,
    leaseMs,
    claimWaitMs,
    ready: lazyOnce(() => lifecycle!.changes.ensureTable()),
  });
  lifecycle = built.context;
  const recoverEvery = checkOptionalPositiveInteger(opts.recoverEvery, 'options.recoverEvery');
  if (recoverEvery !== undefined && sendJournal === undefined) {
    throw new ValidationError('options.recoverEvery', '`options.recoverEvery` needs the send journal; remove `journal: false`');
  }
  return { threshold, send, sync, conversations, lifecycle, lifecycleOff: built.off, recentSends, deliverToSender, recoverEvery };
}
