// Bad input, table-driven: every public method given wrong types, empty or oversized ids,
// messages that cannot be serialised or are too large, invalid cursors (garbage, tampered, from
// another timeline, user, table, secret or API), negative / NaN / fractional limits and an
// out-of-range TTL. Each must reject with a TimelineError of a stable code whose message names the
// parameter, and write nothing: the memory backend's append calls and the emulator's write
// requests are counted around every case. Every case runs on memory and on TableStore over both
// transports (the SDK's client and the wire path, the default): the suite takes about a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidCursorError,
  MemoryBackend,
  Messenger,
  StoreTimeline,
  SyncTimeline,
  TimelineError,
  TimelineStore,
  ValidationError,
  fanOut,
  jsonCodec,
  retryFanOut,
  type InboxMessage,
  type StoredMessage,
  type Timeline,
  type TimelineBackend,
  type TimelineErrorCode,
} from '../../src/index.js';
import { TableStoreBackend } from '../../src/backends/tablestore/index.js';
import { EmulatorOptionError, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { CURSOR_SECRET, tableStoreRig, tickingClock, TimedBackend, uniqueTable, writeRequests, type TableStoreRig } from './harness.js';

interface Chat {
  text: string;
}

/** Everything a case may call, on one backend. */
interface Ctx {
  /** The backend: memory, or TableStore on the SDK transport or the wire transport (the default). */
  readonly name: 'memory' | 'tablestore' | 'tablestore-wire';
  readonly backend: TimelineBackend;
  readonly store: TimelineStore<unknown>;
  readonly timeline: Timeline<unknown>;
  readonly inbox: TimelineStore<Chat>;
  readonly history: StoreTimeline<unknown>;
  readonly sync: SyncTimeline<Chat>;
  readonly messenger: Messenger<Chat>;
  readonly maxMessageBytes: number;
  /** Sync cursors: bob's own, and ones that must be rejected. */
  readonly cursors: {
    readonly bob: string;
    readonly otherTable: string;
    readonly otherSecret: string;
    readonly messengerBob: string;
    readonly ephemeral: string;
  };
  /** A Messenger whose inbox backend takes smaller messages than its store backend. */
  readonly narrowInbox: { messenger: Messenger<Chat>; inboxLimit: number };
  /** Writes so far: memory append calls, or the emulator's write requests. */
  writes(): number;
  readonly emu?: Emulator;
}

const OVER_ID = 'x'.repeat(1025);
const OVER_ID_UTF8 = '€'.repeat(342); // 1026 bytes of UTF-8 in 342 characters
const BAD_IDS: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 42],
  ['an object', {}],
  ['empty', ''],
  ['1025 bytes', OVER_ID],
  ['1026 bytes of UTF-8', OVER_ID_UTF8],
  // UTF-8 cannot carry a lone surrogate: TableStore would store "user\uFFFD", another id.
  ['with a lone high surrogate', 'user\uD800'],
  ['with a lone low surrogate', '\uDC00user'],
];
const BAD_COUNTS: readonly [string, unknown][] = [
  ['0', 0],
  ['negative', -1],
  ['NaN', Number.NaN],
  ['fractional', 1.5],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['a string', '10'],
  ['null', null],
];
const BAD_SEQS: readonly [string, unknown][] = [
  ['a number', 1],
  ['negative', -1n],
  ['2^63', 2n ** 63n],
  ['a string', '1'],
  ['NaN', Number.NaN],
  ['null', null],
];
const BAD_OPTIONS: readonly [string, unknown][] = [
  ['a number', 42],
  ['a string', 'x'],
  ['null', null],
  ['an array', []],
];
const cyclic = (): unknown => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};
const NOT_SERIALISABLE: readonly [string, () => unknown][] = [
  ['a function', () => () => 1],
  ['NaN', () => Number.NaN],
  ['Infinity', () => ({ n: Number.POSITIVE_INFINITY })],
  ['undefined', () => undefined],
  ['undefined in an array', () => [1, undefined]],
  ['a symbol', () => ({ s: Symbol('x') })],
  ['a Date', () => new Date(0)],
  ['a Map', () => new Map([[1, 2]])],
  ['a circular reference', cyclic],
];

/** One case: what to call, and the parameter (and code) its error must name. */
interface Case {
  readonly name: string;
  readonly call: (c: Ctx) => unknown;
  readonly parameter: string;
  readonly code?: TimelineErrorCode;
  /** Only on this backend. */
  /** Only on this kind of backend ('tablestore': on both transports). */
  readonly only?: 'memory' | 'tablestore';
}

const cases: Case[] = [];
const add = (name: string, call: Case['call'], parameter: string, code?: TimelineErrorCode, only?: Case['only']): void => {
  cases.push({ name, call, parameter, ...(code === undefined ? {} : { code }), ...(only === undefined ? {} : { only }) });
};

// TimelineStore constructor
for (const [what, v] of BAD_OPTIONS) add(`new TimelineStore(${what})`, () => new TimelineStore(v as never), 'options');
for (const [what, v] of [['missing', undefined], ['null', null], ['an object', {}], ['a number', 42]] as const) {
  add(`new TimelineStore: backend ${what}`, () => new TimelineStore({ backend: v as never, table: 't' }), 'options.backend');
}
for (const [what, v] of [['missing', undefined], ['empty', ''], ['starting with a digit', '1t'], ['with a dash', 'a-b'], ['256 characters', 't'.repeat(256)], ['a number', 42]] as const) {
  add(`new TimelineStore: table ${what}`, (c) => new TimelineStore({ backend: c.backend, table: v as never }), 'options.table');
}
for (const [what, v] of [
  ['0', 0],
  ['86399', 86_399],
  ['-2', -2],
  ['fractional', 86_400.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['a string', '86400'],
  ['null', null],
  ['2^31 (over the service\'s 32-bit field)', 2 ** 31],
  ['2^32 + 86400 (would wrap to one day)', 2 ** 32 + 86_400],
] as const) {
  add(`new TimelineStore: ttlSeconds ${what}`, (c) => new TimelineStore({ backend: c.backend, table: 't', ttlSeconds: v as never }), 'options.ttlSeconds');
}
for (const [what, v] of [['null', null], ['a number', 42], ['without decode', { encode: () => new Uint8Array() }]] as const) {
  add(`new TimelineStore: codec ${what}`, (c) => new TimelineStore({ backend: c.backend, table: 't', codec: v as never }), 'options.codec');
}
for (const [what, v] of [['unknown', 'ignore'], ['null', null]] as const) {
  add(`new TimelineStore: onTtlMismatch ${what}`, (c) => new TimelineStore({ backend: c.backend, table: 't', onTtlMismatch: v as never }), 'options.onTtlMismatch');
}
for (const [what, v] of BAD_COUNTS) add(`new TimelineStore: writeConcurrency ${what}`, (c) => new TimelineStore({ backend: c.backend, table: 't', writeConcurrency: v as never }), 'options.writeConcurrency');

// TimelineStore.init: an existing table the store cannot use
add(
  'TimelineStore.init: the table exists with another TTL and onTtlMismatch is error',
  (c) => new TimelineStore({ backend: c.backend, table: c.store.table, ttlSeconds: 86_400, onTtlMismatch: 'error' }).init(),
  'onTtlMismatch',
  'TABLE_INCOMPATIBLE',
);
add(
  'TimelineStore.init: the table exists with another primary key',
  async (c) => {
    const other = new TableStoreBackend({ ...connection(c), accessKeyId: c.emu!.accessKeyId, accessKeySecret: c.emu!.accessKeySecret, columns: { seq: 'seq' } } as never);
    try {
      await new TimelineStore({ backend: other, table: c.store.table }).init();
    } finally {
      await other.close();
    }
  },
  'columns',
  'TABLE_INCOMPATIBLE',
  'tablestore',
);

// TimelineStore.timeline
for (const [what, v] of BAD_IDS) add(`store.timeline(${what})`, (c) => c.store.timeline(v as never), 'timelineId');

// TimelineStore.appendBatch
for (const [what, v] of [['undefined', undefined], ['null', null], ['a string', 'x'], ['an object', {}]] as const) {
  add(`appendBatch(${what})`, (c) => c.store.appendBatch(v as never), 'items');
}
for (const [what, v] of [['null', null], ['a number', 42]] as const) add(`appendBatch: item ${what}`, (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }, v as never]), 'items[1]');
for (const [what, v] of BAD_IDS) add(`appendBatch: timelineId ${what}`, (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }, { timelineId: v as never, message: 2 }]), 'items[1].timelineId');
for (const [what, v] of BAD_IDS.filter(([w]) => w !== 'undefined')) {
  add(`appendBatch: messageId ${what}`, (c) => c.store.appendBatch([{ timelineId: 'a', message: 1, messageId: v as never }]), 'items[0].messageId');
}
for (const [what, make] of NOT_SERIALISABLE) add(`appendBatch: message ${what}`, (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }, { timelineId: 'b', message: make() }]), 'items[1].message', 'CODEC');
add('appendBatch: a message over the backend limit', (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }, { timelineId: 'b', message: 'x'.repeat(c.maxMessageBytes) }]), 'items[1].message', 'MESSAGE_TOO_LARGE');
for (const [what, v] of BAD_OPTIONS) add(`appendBatch: options ${what}`, (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }], v as never), 'options');
for (const [what, v] of BAD_COUNTS) add(`appendBatch: concurrency ${what}`, (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }], { concurrency: v as never }), 'options.concurrency');
add('appendBatch: signal not an AbortSignal', (c) => c.store.appendBatch([{ timelineId: 'a', message: 1 }], { signal: {} as never }), 'options.signal');

// Timeline.append
for (const [what, make] of NOT_SERIALISABLE) add(`append: message ${what}`, (c) => c.timeline.append(make()), 'message', 'CODEC');
add('append: a message over the backend limit', (c) => c.timeline.append('x'.repeat(c.maxMessageBytes)), 'message', 'MESSAGE_TOO_LARGE');
add('append: a codec that returns a string', (c) => new TimelineStore({ backend: c.backend, table: c.store.table, codec: { encode: () => 'x' as never, decode: () => 1 } }).timeline('a').append(1), 'message', 'CODEC');
for (const [what, v] of BAD_OPTIONS) add(`append: options ${what}`, (c) => c.timeline.append(1, v as never), 'options');
for (const [what, v] of BAD_IDS.filter(([w]) => w !== 'undefined')) add(`append: messageId ${what}`, (c) => c.timeline.append(1, { messageId: v as never }), 'options.messageId');
add('append: signal not an AbortSignal', (c) => c.timeline.append(1, { signal: 'abort' as never }), 'options.signal');

// Timeline.appendMany
for (const [what, v] of [['undefined', undefined], ['null', null], ['a string', 'x'], ['an object', {}]] as const) add(`appendMany(${what})`, (c) => c.timeline.appendMany(v as never), 'messages');
for (const [what, make] of NOT_SERIALISABLE) add(`appendMany: messages[2] ${what}`, (c) => c.timeline.appendMany([1, 2, make()]), 'messages[2]', 'CODEC');
add('appendMany: messages[1] over the backend limit', (c) => c.timeline.appendMany([1, 'x'.repeat(c.maxMessageBytes)]), 'messages[1]', 'MESSAGE_TOO_LARGE');
for (const [what, v] of BAD_OPTIONS) add(`appendMany: options ${what}`, (c) => c.timeline.appendMany([1], v as never), 'options');
add('appendMany: messageIds not an array', (c) => c.timeline.appendMany([1, 2], { messageIds: 'ab' as never }), 'options.messageIds');
add('appendMany: messageIds of another length', (c) => c.timeline.appendMany([1, 2], { messageIds: ['a'] }), 'options.messageIds');
for (const [what, v] of BAD_IDS.filter(([w]) => w !== 'undefined')) add(`appendMany: messageIds[1] ${what}`, (c) => c.timeline.appendMany([1, 2], { messageIds: ['a', v as never] }), 'options.messageIds[1]');

// Timeline.get
for (const [what, v] of BAD_SEQS) add(`get(${what})`, (c) => c.timeline.get(v as never), 'seq');
for (const [what, v] of BAD_OPTIONS) add(`get: options ${what}`, (c) => c.timeline.get(1n, v as never), 'options');
add('get: signal not an AbortSignal', (c) => c.timeline.get(1n, { signal: 1 as never }), 'options.signal');

// Timeline.scan (validated when called) and latest
for (const [what, v] of BAD_OPTIONS) add(`scan(${what})`, (c) => c.timeline.scan(v as never), 'options');
for (const [what, v] of BAD_SEQS) add(`scan: from ${what}`, (c) => c.timeline.scan({ from: v as never }), 'options.from');
for (const [what, v] of BAD_SEQS) add(`scan: to ${what}`, (c) => c.timeline.scan({ to: v as never }), 'options.to');
add('scan: direction unknown', (c) => c.timeline.scan({ direction: 'up' as never }), 'options.direction');
for (const [what, v] of BAD_COUNTS) add(`scan: limit ${what}`, (c) => c.timeline.scan({ limit: v as never }), 'options.limit');
for (const [what, v] of BAD_COUNTS) add(`scan: pageSize ${what}`, (c) => c.timeline.scan({ pageSize: v as never }), 'options.pageSize');
add('scan: signal not an AbortSignal', (c) => c.timeline.scan({ signal: {} as never }), 'options.signal');
for (const [what, v] of BAD_OPTIONS) add(`latest(${what})`, (c) => c.timeline.latest(v as never), 'options');
add('latest: signal not an AbortSignal', (c) => c.timeline.latest({ signal: true as never }), 'options.signal');

// StoreTimeline
for (const [what, v] of [['undefined', undefined], ['a number', 42], ['an object', {}], ['a Timeline', 'timeline']] as const) {
  add(`new StoreTimeline(${what})`, (c) => new StoreTimeline((v === 'timeline' ? c.timeline : v) as never), 'store');
}
for (const [what, v] of BAD_IDS) add(`StoreTimeline.append: conversationId ${what}`, (c) => c.history.append(v as never, 1), 'conversationId');
for (const [what, make] of NOT_SERIALISABLE.slice(0, 3)) add(`StoreTimeline.append: message ${what}`, (c) => c.history.append('c', make()), 'message', 'CODEC');
add('StoreTimeline.append: a message over the backend limit', (c) => c.history.append('c', 'x'.repeat(c.maxMessageBytes)), 'message', 'MESSAGE_TOO_LARGE');
add('StoreTimeline.append: messageId empty', (c) => c.history.append('c', 1, { messageId: '' }), 'options.messageId');
add('StoreTimeline.append: options a number', (c) => c.history.append('c', 1, 42 as never), 'options');
for (const [what, v] of BAD_IDS) add(`StoreTimeline.page: conversationId ${what}`, (c) => c.history.page(v as never), 'conversationId');
for (const [what, v] of BAD_SEQS) add(`StoreTimeline.page: before ${what}`, (c) => c.history.page('c', { before: v as never }), 'options.before');
for (const [what, v] of BAD_COUNTS) add(`StoreTimeline.page: limit ${what}`, (c) => c.history.page('c', { limit: v as never }), 'options.limit');
for (const [what, v] of BAD_SEQS) add(`StoreTimeline.since: after ${what}`, (c) => c.history.since('c', { after: v as never }), 'options.after');
for (const [what, v] of BAD_COUNTS) add(`StoreTimeline.since: limit ${what}`, (c) => c.history.since('c', { limit: v as never }), 'options.limit');
for (const [what, v] of BAD_SEQS) add(`StoreTimeline.get: seq ${what}`, (c) => c.history.get('c', v as never), 'seq');
add('StoreTimeline.get: conversationId empty', (c) => c.history.get('', 1n), 'conversationId');
add('StoreTimeline.latest: conversationId 1025 bytes', (c) => c.history.latest(OVER_ID), 'conversationId');

// SyncTimeline
for (const [what, v] of [['undefined', undefined], ['a number', 42], ['a StoreTimeline', 'history']] as const) {
  add(`new SyncTimeline(${what})`, (c) => new SyncTimeline((v === 'history' ? c.history : v) as never), 'store');
}
for (const [what, v] of [['too short', 'short'], ['a number', 42], ['empty list', []], ['null', null]] as const) {
  add(`new SyncTimeline: cursorSecret ${what}`, (c) => new SyncTimeline(c.inbox, { cursorSecret: v as never }), 'options.cursorSecret');
}
add('new SyncTimeline: cursorSecret[1] too short', (c) => new SyncTimeline(c.inbox, { cursorSecret: [CURSOR_SECRET, 'short'] }), 'options.cursorSecret[1]');
add('new SyncTimeline: now not a function', (c) => new SyncTimeline(c.inbox, { now: 42 as never }), 'options.now');
add('new SyncTimeline: options a string', (c) => new SyncTimeline(c.inbox, 'x' as never), 'options');
for (const [what, v] of BAD_IDS) add(`SyncTimeline.push: receiverId ${what}`, (c) => c.sync.push(v as never, { text: 'x' }), 'receiverId');
add('SyncTimeline.push: message not serialisable', (c) => c.sync.push('bob', { text: Number.NaN as never }), 'message', 'CODEC');
add('SyncTimeline.push: messageId 1025 bytes', (c) => c.sync.push('bob', { text: 'x' }, { messageId: OVER_ID }), 'options.messageId');
for (const [what, v] of BAD_IDS) add(`SyncTimeline.sync: receiverId ${what}`, (c) => c.sync.sync(v as never), 'receiverId');
for (const [what, v] of BAD_COUNTS) add(`SyncTimeline.sync: limit ${what}`, (c) => c.sync.sync('bob', { limit: v as never }), 'options.limit');
for (const [what, v] of [['a number', 42], ['null', null], ['an object', {}]] as const) add(`SyncTimeline.sync: cursor ${what}`, (c) => c.sync.sync('bob', { cursor: v as never }), 'options.cursor');
const badCursors: readonly [string, (c: Ctx) => string][] = [
  ['empty', () => ''],
  ['garbage', () => 'not a cursor!'],
  ['base64url garbage', () => 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'],
  ['truncated', (c) => c.cursors.bob.slice(0, 20)],
  ['tampered', (c) => tamper(c.cursors.bob)],
  ['two megabytes', () => 'A'.repeat(2 * 1024 * 1024)],
];
for (const [what, cursor] of badCursors) add(`SyncTimeline.sync: cursor ${what}`, (c) => c.sync.sync('bob', { cursor: cursor(c) }), 'options.cursor', 'INVALID_CURSOR');
add('SyncTimeline.sync: cursor of another receiver', (c) => c.sync.sync('alice', { cursor: c.cursors.bob }), 'options.cursor', 'INVALID_CURSOR');
add('SyncTimeline.sync: cursor of another table', (c) => c.sync.sync('bob', { cursor: c.cursors.otherTable }), 'options.cursor', 'INVALID_CURSOR');
add('SyncTimeline.sync: cursor signed with another secret', (c) => c.sync.sync('bob', { cursor: c.cursors.otherSecret }), 'options.cursor', 'INVALID_CURSOR');
add('SyncTimeline.sync: cursor of an instance without a secret', (c) => c.sync.sync('bob', { cursor: c.cursors.ephemeral }), 'options.cursor', 'INVALID_CURSOR');
add('SyncTimeline.sync: a Messenger cursor', (c) => c.sync.sync('bob', { cursor: c.cursors.messengerBob }), 'options.cursor', 'INVALID_CURSOR');

// fanOut / retryFanOut
for (const [what, v] of [['a number', 42], ['undefined', undefined], ['a StoreTimeline', 'history']] as const) {
  add(`fanOut: inbox ${what}`, (c) => fanOut((v === 'history' ? c.history : v) as never, ['a'], { text: 'x' }), 'inbox');
}
for (const [what, v] of [['a string', 'ab'], ['undefined', undefined], ['a Set', new Set(['a'])]] as const) add(`fanOut: receiverIds ${what}`, (c) => fanOut(c.sync, v as never, { text: 'x' }), 'receiverIds');
for (const [what, v] of BAD_IDS) add(`fanOut: receiverIds[1] ${what}`, (c) => fanOut(c.sync, ['a', v as never], { text: 'x' }), 'receiverIds[1]');
for (const [what, make] of NOT_SERIALISABLE.slice(0, 4)) add(`fanOut: message ${what}`, (c) => fanOut(c.sync, ['a', 'b'], make() as never), 'message', 'CODEC');
add('fanOut: a message over the backend limit', (c) => fanOut(c.sync, ['a', 'b'], { text: 'x'.repeat(c.maxMessageBytes) }), 'message', 'MESSAGE_TOO_LARGE');
for (const [what, v] of BAD_OPTIONS) add(`fanOut: options ${what}`, (c) => fanOut(c.sync, ['a'], { text: 'x' }, v as never), 'options');
add('fanOut: messageId empty', (c) => fanOut(c.sync, ['a'], { text: 'x' }, { messageId: '' }), 'options.messageId');
for (const [what, v] of BAD_COUNTS) add(`fanOut: concurrency ${what}`, (c) => fanOut(c.sync, ['a'], { text: 'x' }, { concurrency: v as never }), 'options.concurrency');
for (const [what, v] of BAD_COUNTS) add(`fanOut: dedupeWindow ${what}`, (c) => fanOut(c.sync, ['a'], { text: 'x' }, { messageId: 'm', skipExisting: true, dedupeWindow: v as never }), 'options.dedupeWindow');
add('fanOut: skipExisting not a boolean', (c) => fanOut(c.sync, ['a'], { text: 'x' }, { messageId: 'm', skipExisting: 'yes' as never }), 'options.skipExisting');
add('fanOut: skipExisting without messageId', (c) => fanOut(c.sync, ['a'], { text: 'x' }, { skipExisting: true }), 'options.skipExisting');
const okResult = { messageId: 'm', delivered: [], failed: [{ receiverId: 'a', error: new TimelineError('BACKEND', 'x', { retryable: true }) }] };
add('retryFanOut: inbox a number', () => retryFanOut(42 as never, okResult, { text: 'x' }), 'inbox');
for (const [what, v] of [['a number', 42], ['null', null], ['an object without lists', {}]] as const) add(`retryFanOut: previous ${what}`, (c) => retryFanOut(c.sync, v as never, { text: 'x' }), 'previous');
add('retryFanOut: previous without messageId', (c) => retryFanOut(c.sync, { ...okResult, messageId: undefined }, { text: 'x' }), 'previous.messageId');
add('retryFanOut: previous.messageId empty', (c) => retryFanOut(c.sync, { ...okResult, messageId: '' }, { text: 'x' }), 'previous.messageId');
for (const [what, v] of [['null', null], ['a number', 42], ['an empty receiverId', { receiverId: '', error: okResult.failed[0]!.error }]] as const) {
  add(`retryFanOut: previous.failed[0] ${what}`, (c) => retryFanOut(c.sync, { ...okResult, failed: [v as never] }, { text: 'x' }), 'previous.failed[0].receiverId');
}
for (const [what, v] of [['a number', 42], ['null', null], ['without a seq', { receiverId: 'b' }]] as const) {
  add(`retryFanOut: previous.delivered[0] ${what}`, (c) => retryFanOut(c.sync, { ...okResult, delivered: [v as never] }, { text: 'x' }), 'previous.delivered[0]');
}
add('retryFanOut: previous.delivered[0] with an empty receiverId', (c) => retryFanOut(c.sync, { ...okResult, delivered: [{ receiverId: '', seq: 1n }] }, { text: 'x' }), 'previous.delivered[0].receiverId');
add(
  'retryFanOut: a message not serialisable, although every failed receiver already holds the id',
  // Inbox `holds` already holds `held` (set up below): nothing would be written, the message is still checked.
  (c) => retryFanOut(c.sync, { ...okResult, messageId: 'held', failed: [{ receiverId: 'holds', error: okResult.failed[0]!.error }] }, { text: Number.NaN } as never),
  'message',
  'CODEC',
);
add('retryFanOut: options.messageId other than previous', (c) => retryFanOut(c.sync, okResult, { text: 'x' }, { messageId: 'other' } as never), 'options.messageId');
for (const [what, v] of BAD_COUNTS) add(`retryFanOut: concurrency ${what}`, (c) => retryFanOut(c.sync, okResult, { text: 'x' }, { concurrency: v as never }), 'options.concurrency');
add('retryFanOut: message not serialisable', (c) => retryFanOut(c.sync, okResult, { text: Number.NaN } as never), 'message', 'CODEC');

// Messenger constructor
const messengerOptions = (c: Ctx, extra: Record<string, unknown>): Record<string, unknown> =>
  ({ store: new StoreTimeline(c.store), sync: new SyncTimeline(c.inbox, { cursorSecret: CURSOR_SECRET }), largeGroupThreshold: Number.POSITIVE_INFINITY, ...extra });
for (const [what, v] of BAD_OPTIONS) add(`new Messenger(${what})`, () => new Messenger(v as never), 'options');
add('new Messenger: store missing', (c) => new Messenger(messengerOptions(c, { store: undefined }) as never), 'options.store');
add('new Messenger: store a TimelineStore', (c) => new Messenger(messengerOptions(c, { store: c.store }) as never), 'options.store');
add('new Messenger: sync a StoreTimeline', (c) => new Messenger(messengerOptions(c, { sync: c.history }) as never), 'options.sync');
add("new Messenger: sync on the store table", (c) => new Messenger(messengerOptions(c, { sync: new SyncTimeline(c.store as never) }) as never), 'options.sync');
for (const [what, v] of [['negative', -1], ['fractional', 1.5], ['NaN', Number.NaN], ['a string', '5'], ['null', null]] as const) {
  add(`new Messenger: largeGroupThreshold ${what}`, (c) => new Messenger(messengerOptions(c, { largeGroupThreshold: v }) as never), 'options.largeGroupThreshold');
}
add('new Messenger: largeGroupsOf missing with a finite threshold', (c) => new Messenger(messengerOptions(c, { largeGroupThreshold: 10 }) as never), 'options.largeGroupsOf');
add('new Messenger: largeGroupsOf not a function', (c) => new Messenger(messengerOptions(c, { largeGroupsOf: ['g'] }) as never), 'options.largeGroupsOf');
add('new Messenger: onDelivered not a function', (c) => new Messenger(messengerOptions(c, { onDelivered: 'x' }) as never), 'options.onDelivered');
add('new Messenger: now not a function', (c) => new Messenger(messengerOptions(c, { now: 5 }) as never), 'options.now');
add('new Messenger: deliverToSender not a boolean', (c) => new Messenger(messengerOptions(c, { deliverToSender: 1 }) as never), 'options.deliverToSender');
add('new Messenger: checkBeforeSend not a boolean', (c) => new Messenger(messengerOptions(c, { checkBeforeSend: 'no' }) as never), 'options.checkBeforeSend');
for (const [what, v] of BAD_COUNTS) add(`new Messenger: dedupeWindow ${what}`, (c) => new Messenger(messengerOptions(c, { dedupeWindow: v }) as never), 'options.dedupeWindow');
for (const [what, v] of BAD_COUNTS) add(`new Messenger: concurrency ${what}`, (c) => new Messenger(messengerOptions(c, { concurrency: v }) as never), 'options.concurrency');
for (const [what, v] of [['negative', -1], ['fractional', 0.5], ['NaN', Number.NaN], ['null', null]] as const) {
  add(`new Messenger: recentSends ${what}`, (c) => new Messenger(messengerOptions(c, { recentSends: v }) as never), 'options.recentSends');
}

// Messenger.send
const send = (extra: Record<string, unknown>) => (c: Ctx) =>
  c.messenger.send({ conversationId: 'dm:a:b', senderId: 'a', recipients: ['b'], message: { text: 'x' }, messageId: 'm-1', ...extra } as never);
for (const [what, v] of BAD_OPTIONS) add(`Messenger.send(${what})`, (c) => c.messenger.send(v as never), 'input');
for (const [what, v] of BAD_IDS) add(`Messenger.send: conversationId ${what}`, send({ conversationId: v }), 'input.conversationId');
for (const [what, v] of BAD_IDS) add(`Messenger.send: senderId ${what}`, send({ senderId: v }), 'input.senderId');
for (const [what, v] of [['a string', 'b'], ['undefined', undefined], ['null', null]] as const) add(`Messenger.send: recipients ${what}`, send({ recipients: v }), 'input.recipients');
for (const [what, v] of BAD_IDS) add(`Messenger.send: recipients[1] ${what}`, send({ recipients: ['b', v] }), 'input.recipients[1]');
add('Messenger.send: message missing', (c) => c.messenger.send({ conversationId: 'dm:a:b', senderId: 'a', recipients: ['b'], messageId: 'm-1' } as never), 'input.message');
for (const [what, make] of NOT_SERIALISABLE.filter(([w]) => w !== 'undefined')) add(`Messenger.send: message ${what}`, (c) => send({ message: make() })(c), 'input.message', 'CODEC');
add('Messenger.send: a message over the backend limit', (c) => send({ message: { text: 'x'.repeat(c.maxMessageBytes) } })(c), 'input.message', 'MESSAGE_TOO_LARGE');
add(
  'Messenger.send: a message that fits the store but whose inbox envelope does not',
  (c) => {
    const { messenger, inboxLimit } = c.narrowInbox;
    return messenger.send({ conversationId: 'dm:a:b', senderId: 'a', recipients: ['b'], message: { text: 'x'.repeat(inboxLimit - 60) }, messageId: 'm-1' });
  },
  'input.message',
  'MESSAGE_TOO_LARGE',
);
for (const [what, v] of BAD_IDS) add(`Messenger.send: messageId ${what}`, send({ messageId: v }), 'input.messageId');
add('Messenger.send: signal not an AbortSignal', send({ signal: 'x' }), 'input.signal');

// Messenger.sync and history
for (const [what, v] of BAD_IDS) add(`Messenger.sync: userId ${what}`, (c) => c.messenger.sync(v as never), 'userId');
for (const [what, v] of BAD_OPTIONS) add(`Messenger.sync: options ${what}`, (c) => c.messenger.sync('bob', v as never), 'options');
for (const [what, v] of BAD_COUNTS) add(`Messenger.sync: limit ${what}`, (c) => c.messenger.sync('bob', { limit: v as never }), 'options.limit');
add('Messenger.sync: cursor a number', (c) => c.messenger.sync('bob', { cursor: 7 as never }), 'options.cursor');
for (const [what, cursor] of badCursors) add(`Messenger.sync: cursor ${what}`, (c) => c.messenger.sync('bob', { cursor: cursor(c).replace(c.cursors.bob, c.cursors.messengerBob) }), 'options.cursor', 'INVALID_CURSOR');
add('Messenger.sync: tampered Messenger cursor', (c) => c.messenger.sync('bob', { cursor: tamper(c.cursors.messengerBob) }), 'options.cursor', 'INVALID_CURSOR');
add('Messenger.sync: cursor of another user', (c) => c.messenger.sync('alice', { cursor: c.cursors.messengerBob }), 'options.cursor', 'INVALID_CURSOR');
add('Messenger.sync: a SyncTimeline cursor', (c) => c.messenger.sync('bob', { cursor: c.cursors.bob }), 'options.cursor', 'INVALID_CURSOR');
add('Messenger.sync: signal not an AbortSignal', (c) => c.messenger.sync('bob', { signal: 1 as never }), 'options.signal');
add(
  'Messenger.sync: largeGroupsOf returns a non-iterable',
  (c) => new Messenger({ ...messengerOptions(c, {}), largeGroupThreshold: 10, largeGroupsOf: () => 42 } as never).sync('bob'),
  'options.largeGroupsOf',
);
add(
  'Messenger.sync: largeGroupsOf returns an empty id',
  (c) => new Messenger({ ...messengerOptions(c, {}), largeGroupThreshold: 10, largeGroupsOf: () => ['g', ''] } as never).sync('bob'),
  'options.largeGroupsOf("bob")[1]',
);
add(
  'Messenger.sync: largeGroupsOf returns a negative from',
  (c) => new Messenger({ ...messengerOptions(c, {}), largeGroupThreshold: 10, largeGroupsOf: () => [{ conversationId: 'g', from: -1n }] } as never).sync('bob'),
  'options.largeGroupsOf("bob")[0].from',
);
for (const [what, v] of BAD_IDS) add(`Messenger.history: conversationId ${what}`, (c) => c.messenger.history(v as never), 'conversationId');
for (const [what, v] of BAD_COUNTS) add(`Messenger.history: limit ${what}`, (c) => c.messenger.history('c', { limit: v as never }), 'options.limit');
for (const [what, v] of BAD_SEQS) add(`Messenger.history: before ${what}`, (c) => c.messenger.history('c', { before: v as never }), 'options.before');
add('Messenger.history: options a number', (c) => c.messenger.history('c', 3 as never), 'options');

// MemoryBackend constructor
for (const [what, v] of BAD_OPTIONS) add(`new MemoryBackend(${what})`, () => new MemoryBackend(v as never), 'options');
for (const [what, v] of BAD_SEQS) add(`new MemoryBackend: firstSeq ${what}`, () => new MemoryBackend({ firstSeq: v as never }), 'options.firstSeq');
add('new MemoryBackend: now not a function', () => new MemoryBackend({ now: 1 as never }), 'options.now');
for (const key of ['maxBatchRows', 'maxScanPageRows', 'maxMessageBytes'] as const) {
  for (const [what, v] of BAD_COUNTS) add(`new MemoryBackend: ${key} ${what}`, () => new MemoryBackend({ [key]: v as never }), `options.${key}`);
}

// TableStoreBackend constructor
const connection = (c: Ctx): Record<string, unknown> => ({
  endpoint: c.emu?.endpoint ?? 'http://127.0.0.1:1',
  instanceName: 'emulator',
  accessKeyId: 'id',
  accessKeySecret: 'secret',
  // A backend a case builds talks over the context's transport.
  ...(c.name === 'tablestore-wire' ? { transport: 'wire' } : {}),
});
const tsb = (extra: Record<string, unknown>) => (c: Ctx) => new TableStoreBackend({ ...connection(c), ...extra } as never);
for (const [what, v] of BAD_OPTIONS) add(`new TableStoreBackend(${what})`, () => new TableStoreBackend(v as never), 'options');
for (const key of ['endpoint', 'instanceName', 'accessKeyId', 'accessKeySecret'] as const) {
  for (const [what, v] of [['missing', undefined], ['empty', ''], ['a number', 42]] as const) add(`new TableStoreBackend: ${key} ${what}`, tsb({ [key]: v }), `options.${key}`);
}
add('new TableStoreBackend: endpoint without a scheme', tsb({ endpoint: 'ots.example.com' }), 'options.endpoint');
add('new TableStoreBackend: stsToken a number', tsb({ stsToken: 1 }), 'options.stsToken');
for (const [what, v] of [...BAD_COUNTS, ['over 2^31 - 1 ms (Node timers)', 2 ** 31]] as const) add(`new TableStoreBackend: requestTimeoutMs ${what}`, tsb({ requestTimeoutMs: v }), 'options.requestTimeoutMs');
for (const [what, v] of [['negative', -1], ['fractional', 0.5], ['a string', '3'], ['null', null]] as const) add(`new TableStoreBackend: sdkMaxRetries ${what}`, tsb({ sdkMaxRetries: v }), 'options.sdkMaxRetries');
add('new TableStoreBackend: retryStrategy not a function', tsb({ retryStrategy: 5 }), 'options.retryStrategy');
add('new TableStoreBackend: orderedBatches not a boolean', tsb({ orderedBatches: 'yes' }), 'options.orderedBatches');
for (const [what, v] of BAD_COUNTS) add(`new TableStoreBackend: ambiguityWindowRows ${what}`, tsb({ ambiguityWindowRows: v }), 'options.ambiguityWindowRows');
for (const [what, v] of [['a number', 42], ['a string', 'payload'], ['null', null]] as const) add(`new TableStoreBackend: columns ${what}`, tsb({ columns: v }), 'options.columns');
add('new TableStoreBackend: columns.payload not an identifier', tsb({ columns: { payload: 'pay-load' } }), 'options.columns.payload');
add('new TableStoreBackend: two columns with one name', tsb({ columns: { messageId: 'x', writeId: 'x' } }), 'options.columns.writeId');
add('new TableStoreBackend: client and endpoint', (c) => new TableStoreBackend({ client: {}, endpoint: connection(c).endpoint } as never), 'options.endpoint');
add('new TableStoreBackend: client not a TableStore client', () => new TableStoreBackend({ client: {} }), 'options.client');

// startEmulator options
for (const [what, v] of BAD_OPTIONS) add(`startEmulator(${what})`, () => startEmulator(v as never), 'options');
for (const [key, values] of [
  ['port', [-1, 65_536, 1.5, '8800', null]],
  ['latencyMs', [-1, 1.5, Number.NaN, '5']],
  ['seed', [1.5, 'x', 2 ** 40]],
  ['host', ['', 42]],
  ['instanceName', ['', 7]],
  ['accessKeyId', ['']],
  ['accessKeySecret', [0]],
  ['dataDir', ['']],
  ['clock', [42, 'now']],
  ['fsync', ['yes', 1]],
  ['compactOnOpen', ['no']],
  ['controlEndpoint', ['no', 0]],
] as const) {
  for (const v of values) add(`startEmulator: ${key} ${JSON.stringify(v) ?? String(v)}`, () => startEmulator({ [key]: v } as never), `options.${key}`);
}

for (const v of [0n, -5n, 1n + (1n << 62n), 5, '1']) {
  add(`startEmulator: autoIncrementStart ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)}`, () => startEmulator({ autoIncrementStart: v } as never), 'options.autoIncrementStart');
}

function tamper(cursor: string): string {
  const i = Math.floor(cursor.length / 2);
  const ch = cursor[i] === 'A' ? 'B' : 'A';
  return cursor.slice(0, i) + ch + cursor.slice(i + 1);
}

async function makeCtx(name: Ctx['name'], backend: TimelineBackend, writes: () => number, emu?: Emulator): Promise<Ctx> {
  const now = tickingClock();
  const store = new TimelineStore<unknown>({ backend, table: uniqueTable('bad_store') });
  const inbox = new TimelineStore<Chat>({ backend, table: uniqueTable('bad_sync'), ttlSeconds: 7 * 86_400 });
  const msgStore = new TimelineStore<StoredMessage<Chat>>({ backend, table: uniqueTable('bad_mstore') });
  const msgInbox = new TimelineStore<InboxMessage<Chat>>({ backend, table: uniqueTable('bad_msync'), ttlSeconds: 7 * 86_400 });
  const otherInbox = new TimelineStore<Chat>({ backend, table: uniqueTable('bad_other'), ttlSeconds: 7 * 86_400 });
  await Promise.all([store.init(), inbox.init(), msgStore.init(), msgInbox.init(), otherInbox.init()]);
  const sync = new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET, now });
  const messenger = new Messenger<Chat>({
    store: new StoreTimeline(msgStore),
    sync: new SyncTimeline(msgInbox, { cursorSecret: CURSOR_SECRET, now }),
    largeGroupThreshold: Number.POSITIVE_INFINITY,
    now,
  });
  await sync.push('bob', { text: 'hello' }, { messageId: 'seed' });
  await sync.push('holds', { text: 'x' }, { messageId: 'held' });
  await messenger.send({ conversationId: 'dm:a:bob', senderId: 'a', recipients: ['bob'], message: { text: 'hello' }, messageId: 'seed' });
  // The inbox of this Messenger takes messages of at most 1,000 bytes; its store takes 2 MiB.
  const inboxLimit = 1000;
  const narrowStore = new TimedBackend(new MemoryBackend());
  const narrowInbox = new TimedBackend(new MemoryBackend({ maxMessageBytes: inboxLimit }));
  const narrow = new Messenger<Chat>({
    store: new StoreTimeline(new TimelineStore<StoredMessage<Chat>>({ backend: narrowStore, table: 'narrow_store' })),
    sync: new SyncTimeline(new TimelineStore<InboxMessage<Chat>>({ backend: narrowInbox, table: 'narrow_sync', ttlSeconds: 86_400 }), { cursorSecret: CURSOR_SECRET, now }),
    largeGroupThreshold: Number.POSITIVE_INFINITY,
    now,
  });
  return {
    name,
    backend,
    store,
    timeline: store.timeline('tl'),
    inbox,
    history: new StoreTimeline(store),
    sync,
    messenger,
    maxMessageBytes: store.capabilities.maxMessageBytes,
    cursors: {
      bob: (await sync.sync('bob')).cursor,
      otherTable: (await new SyncTimeline(otherInbox, { cursorSecret: CURSOR_SECRET }).sync('bob')).cursor,
      otherSecret: (await new SyncTimeline(inbox, { cursorSecret: 'another-secret-of-enough-bytes' }).sync('bob')).cursor,
      messengerBob: (await messenger.sync('bob')).cursor,
      ephemeral: (await new SyncTimeline(inbox).sync('bob')).cursor,
    },
    narrowInbox: { messenger: narrow, inboxLimit },
    writes: () => writes() + narrowStore.times.append.count + narrowInbox.times.append.count,
    ...(emu === undefined ? {} : { emu }),
  };
}

const contexts: Record<Ctx['name'], Ctx | undefined> = { memory: undefined, tablestore: undefined, 'tablestore-wire': undefined };
let rig: TableStoreRig | undefined;
let wireRig: TableStoreRig | undefined;

beforeAll(async () => {
  const timed = new TimedBackend(new MemoryBackend());
  contexts.memory = await makeCtx('memory', timed, () => timed.times.append.count);
  rig = await tableStoreRig(4001, {}, {}, { transport: 'sdk' });
  const emu = rig.emu;
  contexts.tablestore = await makeCtx('tablestore', rig.backend, () => writeRequests(emu), emu);
  wireRig = await tableStoreRig(4002, {}, {}, { transport: 'wire' });
  const wireEmu = wireRig.emu;
  contexts['tablestore-wire'] = await makeCtx('tablestore-wire', wireRig.backend, () => writeRequests(wireEmu), wireEmu);
});
afterAll(async () => {
  await rig?.close();
  await wireRig?.close();
});

// Every case on memory and on TableStore over both transports (a few milliseconds each).
describe.each(['memory', 'tablestore', 'tablestore-wire'] as const)('bad input on %s', (backendName) => {
  it.each(cases.filter((c) => c.only === undefined || backendName.startsWith(c.only)).map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const c = contexts[backendName]!;
    const writesBefore = c.writes();
    const rowsBefore = c.emu === undefined ? undefined : JSON.stringify(c.emu.stats().rows);
    let error: unknown;
    let returned: unknown;
    try {
      returned = testCase.call(c);
      // `scan` validates when called; anything else returns a promise.
      if (returned !== null && typeof returned === 'object' && typeof (returned as Promise<unknown>).then === 'function') await returned;
      else if (returned !== null && typeof returned === 'object' && Symbol.asyncIterator in returned) {
        for await (const _ of returned as AsyncIterable<unknown>) break;
      }
    } catch (e) {
      error = e;
    }
    if (returned instanceof TableStoreBackend) await returned.close();
    if (error === undefined && returned !== null && typeof returned === 'object' && 'close' in returned && typeof returned.close === 'function') {
      await (returned as { close(): Promise<void> }).close();
    }
    // The emulator stands alone (no import from core/): its option error is shaped like a ValidationError.
    if (error instanceof EmulatorOptionError) {
      expect(error.name).toBe('ValidationError');
      expect(error.parameter).toBe(testCase.parameter);
    } else expect(error, 'expected a TimelineError').toBeInstanceOf(TimelineError);
    const e = error as TimelineError;
    expect(e.code).toBe(testCase.code ?? 'INVALID_ARGUMENT');
    expect(e.message).toContain(testCase.parameter);
    if (e instanceof ValidationError) expect(e.parameter).toBe(testCase.parameter);
    if (testCase.code === 'INVALID_CURSOR') expect(e).toBeInstanceOf(InvalidCursorError);
    // Nothing written.
    expect(c.writes()).toBe(writesBefore);
    if (rowsBefore !== undefined) expect(JSON.stringify(c.emu!.stats().rows)).toBe(rowsBefore);
  });
});

describe('scan validates when called, before any iteration', () => {
  it('throws synchronously', () => {
    const backend = new MemoryBackend();
    const timeline = new TimelineStore({ backend, table: 't', codec: jsonCodec() }).timeline('x');
    expect(() => timeline.scan({ limit: -1 })).toThrow(ValidationError);
  });
});
