// The Messenger's option and input checks: retention of its stores, the send journal, the
// lifecycle, the tables derived from the message store's name, and the inputs of send, recall,
// edit and deleteForMe.
import { TimelineError, ValidationError } from '../core/errors.js';
import { GuardedBackend } from '../core/guarded-backend.js';
import { checkMessageId, checkOptionalPositiveInteger, checkOptionsObject, checkSeq, checkSignal, checkTimelineId, checkTtlSeconds } from '../core/validate.js';
import { defaultCanModify, type ChangeContext, type ChangeRequest } from './change-flow.js';
import { ChangeRecords } from './change-state.js';
import { checkOptionalBoolean, checkOptionalFunction, checkTimelineIds, describe } from './internal.js';
import type { CanModify, DeleteForMeInput, EditInput, JournalOptions, LifecycleOptions, MessengerOptions, SendInput } from './messenger-types.js';
import type { SendRequest } from './send-flow.js';

const DEFAULT_JOURNAL_TTL_SECONDS = 7 * 86400;
/** Default of `journal.leaseMs`. */
export const DEFAULT_LEASE_MS = 30_000;
/** Default of `journal.claimWaitMs`. */
export const DEFAULT_CLAIM_WAIT_MS = 10_000;
/** Default of `lifecycle.recallWindowMs`: WeChat's two minutes, which many products copy. */
export const DEFAULT_RECALL_WINDOW_MS = 120_000;
// TableStore's table-name rule, which a derived table name must also meet.
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/**
 * The name of a table derived from the message store's (`<store table>_<suffix>`) unless `given`;
 * either must be a valid table name, named in the error by the option that sets it.
 */
export function derivedTableName(given: unknown, storeTable: string, suffix: string, option: string): string {
  const table = given ?? `${storeTable}_${suffix}`;
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new ValidationError(
      given === undefined ? 'options.store' : `options.${option}.table`,
      given === undefined
        ? `the ${option} table name derived from the message store's table (${JSON.stringify(table)}) is not a valid table name; pass \`${option}: { table }\``
        : `Expected \`options.${option}.table\` to be a table name (letters, digits and _, not starting with a digit, at most 255), got ${describe(table)}`,
    );
  }
  return table;
}

/** Refuses stores whose retention does not fit their role, unless the caller opted out. */
export function checkRetention<T>(opts: Partial<MessengerOptions<T>>): void {
  const storeTtl = opts.store!.store.ttlSeconds;
  const syncTtl = opts.sync!.store.ttlSeconds;
  const allowExpiringHistory = checkOptionalBoolean(opts.allowExpiringHistory, 'options.allowExpiringHistory') ?? false;
  const allowPermanentInboxes = checkOptionalBoolean(opts.allowPermanentInboxes, 'options.allowPermanentInboxes') ?? false;
  if (storeTtl !== -1 && !allowExpiringHistory) {
    throw new ValidationError(
      'options.store',
      `Expected \`options.store\` to keep history forever (ttlSeconds -1), but its table ${opts.store!.store.table} has a TTL of ${storeTtl} seconds: history, and roaming, would silently expire. Pass \`allowExpiringHistory: true\` if a retention limit on history is intended`,
    );
  }
  if (syncTtl === -1 && !allowPermanentInboxes) {
    throw new ValidationError(
      'options.sync',
      `Expected \`options.sync\` to have a TTL (e.g. 7 * 86400), but its table ${opts.sync!.store.table} keeps entries forever: every inbox would grow without bound. Pass \`allowPermanentInboxes: true\` if that is intended`,
    );
  }
}

/** Validates `options.journal`: undefined when it is off. */
export function checkJournal(value: unknown, storeTable: string): Required<JournalOptions> | undefined {
  if (value === false) return undefined;
  const opts = checkOptionsObject(value, 'options.journal') as JournalOptions;
  const table = derivedTableName(opts.table, storeTable, 'journal', 'journal');
  const ttlSeconds = opts.ttlSeconds === undefined ? DEFAULT_JOURNAL_TTL_SECONDS : checkTtlSeconds(opts.ttlSeconds, 'options.journal.ttlSeconds');
  const leaseMs = checkOptionalPositiveInteger(opts.leaseMs, 'options.journal.leaseMs') ?? DEFAULT_LEASE_MS;
  const claimWait = opts.claimWaitMs === undefined ? DEFAULT_CLAIM_WAIT_MS : opts.claimWaitMs;
  if (typeof claimWait !== 'number' || !Number.isSafeInteger(claimWait) || claimWait < 0) {
    throw new ValidationError('options.journal.claimWaitMs', `Expected \`options.journal.claimWaitMs\` to be an integer from 0 and up, got ${describe(claimWait)}`);
  }
  return { table, ttlSeconds, leaseMs, claimWaitMs: claimWait };
}

/** Validates the input of `recall` and `edit`. */
export function checkChangeInput<T>(input: unknown, kind: 'recall' | 'edit'): ChangeRequest<T> {
  const shape = kind === 'recall' ? '{ conversationId, seq, by, requestId, recipients? }' : '{ conversationId, seq, by, requestId, message, recipients? }';
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('input', `Expected \`input\` to be an object ${shape}, got ${describe(input)}`);
  }
  const opts = input as Partial<EditInput<T>>;
  const conversationId = checkTimelineId(opts.conversationId, 'input.conversationId');
  const seq = checkSeq(opts.seq, 'input.seq');
  const by = checkTimelineId(opts.by, 'input.by');
  if (opts.requestId === undefined) {
    throw new ValidationError('input.requestId', `Expected \`input.requestId\` to be a non-empty string: a client-generated id that makes a repeated ${kind} safe`);
  }
  const requestId = checkMessageId(opts.requestId, 'input.requestId')!;
  const recipients = opts.recipients === undefined ? undefined : checkTimelineIds(opts.recipients, 'input.recipients');
  if (kind === 'edit' && !('message' in opts)) throw new ValidationError('input.message', 'Expected `input.message` to be set: the new content');
  const signal = checkSignal(opts.signal, 'input.signal');
  return { kind, conversationId, seq, by, requestId, recipients, signal, ...(kind === 'edit' ? { message: opts.message as T } : {}) };
}

/** The lifecycle context's parts that the Messenger supplies. */
export type LifecycleParts<T> = Omit<ChangeContext<T>, 'store' | 'changes' | 'canModify' | 'recallWindowMs'>;

// The lifecycle's context, or why it is off. Explicit options on a backend that lacks a needed
// capability are refused here, at construction.
export function buildLifecycle<T>(opts: Partial<MessengerOptions<T>>, parts: LifecycleParts<T>): { context?: ChangeContext<T>; off?: string } {
  const canModifyOption = checkOptionalFunction<CanModify<T>>(opts.canModify, 'options.canModify');
  if (opts.lifecycle === false) return { off: 'the Messenger was built with `lifecycle: false`' };
  const explicit = opts.lifecycle !== undefined;
  const o = checkOptionsObject(opts.lifecycle, 'options.lifecycle') as LifecycleOptions;
  const store = opts.store!;
  const table = derivedTableName(o.table, store.store.table, 'changes', 'lifecycle');
  const window = o.recallWindowMs === undefined ? DEFAULT_RECALL_WINDOW_MS : o.recallWindowMs;
  if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 0) {
    throw new ValidationError('options.lifecycle.recallWindowMs', `Expected \`options.lifecycle.recallWindowMs\` to be an integer from 0 and up (milliseconds), got ${describe(window)}`);
  }
  const guarded = GuardedBackend.wrap(store.store.backend);
  const missing = [guarded.records === undefined ? 'keyed records' : undefined, guarded.mutations === undefined ? 'in-place update (`mutations`)' : undefined].filter(
    (x): x is string => x !== undefined,
  );
  if (missing.length > 0) {
    const why = `the message store's backend (${guarded.capabilities.name}) has no ${missing.join(' and no ')} capability, which recall, edit and deleteForMe need`;
    if (explicit) throw new TimelineError('NOT_SUPPORTED', `${why}; use a backend that has it, or pass \`lifecycle: false\``, { operation: 'Messenger' });
    return { off: why };
  }
  return {
    context: {
      ...parts,
      store,
      changes: new ChangeRecords(guarded.records!, table),
      canModify: canModifyOption ?? defaultCanModify<T>(window),
      recallWindowMs: window,
    },
  };
}

/** Validates the input of `send`; its targets are the recipients, plus the sender with `deliverToSender`. */
export function checkSendInput<T>(input: unknown, deliverToSender: boolean): SendRequest<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('input', `Expected \`input\` to be an object { conversationId, senderId, recipients, message, messageId }, got ${describe(input)}`);
  }
  const opts = input as Partial<SendInput<T>>;
  const conversationId = checkTimelineId(opts.conversationId, 'input.conversationId');
  const senderId = checkTimelineId(opts.senderId, 'input.senderId');
  const recipients = checkTimelineIds(opts.recipients, 'input.recipients');
  if (!('message' in opts)) throw new ValidationError('input.message', 'Expected `input.message` to be set');
  if (opts.messageId === undefined) {
    throw new ValidationError('input.messageId', 'Expected `input.messageId` to be a non-empty string: a client-generated id that makes a re-send safe');
  }
  const messageId = checkMessageId(opts.messageId, 'input.messageId')!;
  const signal = checkSignal(opts.signal, 'input.signal');
  const targets = deliverToSender && !recipients.includes(senderId) ? [...recipients, senderId] : recipients;
  return { conversationId, senderId, targets, message: opts.message as T, messageId, signal };
}

/** Validates the input of `deleteForMe`. */
export function checkDeleteInput(input: unknown): Required<Omit<DeleteForMeInput, 'signal'>> & { signal: AbortSignal | undefined } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError('input', `Expected \`input\` to be an object { userId, conversationId, seq }, got ${describe(input)}`);
  }
  const opts = input as Partial<DeleteForMeInput>;
  return {
    userId: checkTimelineId(opts.userId, 'input.userId'),
    conversationId: checkTimelineId(opts.conversationId, 'input.conversationId'),
    seq: checkSeq(opts.seq, 'input.seq'),
    signal: checkSignal(opts.signal, 'input.signal'),
  };
}
