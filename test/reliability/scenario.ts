// The IM workload of the reliability suites, shared by the fault matrix and the soak: a seeded plan
// of conversations, users, devices and messages; clients that re-send a failed message with the
// same messageId until it is delivered (what a real client does); devices that sync under faults
// and retry with the same cursor; and a verifier of the guarantees: every message exactly once in
// every recipient's sync and in its conversation's history, in each sender's send order.
//
// Bookkeeping is compact (counters per device and (conversation, sender)), so the soak can run
// 100,000 messages without the test itself growing.
import pLimit from 'p-limit';
import { TimelineError, type LargeGroup, type Messenger, type MessengerEntry, type SendResult } from '../../src/index.js';
import { pick, prng, type Msg } from './harness.js';

/** A conversation of the plan. `read`: over the large-group threshold (read diffusion). */
export interface Conversation {
  readonly id: string;
  readonly members: readonly string[];
  readonly mode: 'write' | 'read';
}

/** One message to send: the k-th message of `senderId` in `conversationId`. */
export interface PlannedMessage {
  readonly conversationId: string;
  readonly senderId: string;
  readonly k: number;
  readonly messageId: string;
}

/** A device of a user, with the `limit` it syncs with. */
export interface DeviceSpec {
  readonly userId: string;
  readonly limit: number;
}

export interface Plan {
  readonly conversations: readonly Conversation[];
  readonly byId: ReadonlyMap<string, Conversation>;
  /** Each sender's messages, in send order. */
  readonly bySender: ReadonlyMap<string, readonly PlannedMessage[]>;
  readonly messageCount: number;
  /** Messages sent per `${conversationId}\u0000${senderId}`. */
  readonly sent: ReadonlyMap<string, number>;
  readonly devices: readonly DeviceSpec[];
  /** Conversations (large groups) of each user, for `largeGroupsOf`. */
  readonly largeGroupsOf: (userId: string) => LargeGroup[];
  /** Inbox rows the plan must end with: one per message and member of a write-diffused conversation. */
  readonly inboxRows: number;
}

export const key = (conversationId: string, senderId: string): string => `${conversationId}\u0000${senderId}`;

/**
 * Builds a plan from explicit conversations and sends (in order; each sender's sends keep this
 * order). A conversation with more members than `largeGroupThreshold` uses read diffusion.
 */
export function planFrom(input: {
  conversations: readonly { readonly id: string; readonly members: readonly string[] }[];
  sends: readonly { readonly conversationId: string; readonly senderId: string }[];
  devices: readonly DeviceSpec[];
  largeGroupThreshold: number;
}): Plan {
  const conversations: Conversation[] = input.conversations.map((c) => ({
    id: c.id,
    members: [...new Set(c.members)],
    mode: new Set(c.members).size > input.largeGroupThreshold ? 'read' : 'write',
  }));
  const byId = new Map(conversations.map((c) => [c.id, c]));
  const bySender = new Map<string, PlannedMessage[]>();
  const sent = new Map<string, number>();
  let inboxRows = 0;
  for (const { conversationId, senderId } of input.sends) {
    const c = byId.get(conversationId)!;
    const k = sent.get(key(c.id, senderId)) ?? 0;
    sent.set(key(c.id, senderId), k + 1);
    const m: PlannedMessage = { conversationId: c.id, senderId, k, messageId: `${c.id}:${senderId}:${k}` };
    const list = bySender.get(senderId);
    if (list === undefined) bySender.set(senderId, [m]);
    else list.push(m);
    if (c.mode === 'write') inboxRows += c.members.length;
  }
  const large = new Map<string, LargeGroup[]>();
  for (const c of conversations) {
    if (c.mode !== 'read') continue;
    for (const u of c.members) {
      const list = large.get(u) ?? [];
      // `from: 0n`: a device that first sees the group reads it from the start, so nothing sent
      // before its first sync is left to history.
      list.push({ conversationId: c.id, from: 0n });
      large.set(u, list);
    }
  }
  return {
    conversations,
    byId,
    bySender,
    messageCount: input.sends.length,
    sent,
    devices: input.devices,
    largeGroupsOf: (userId) => large.get(userId) ?? [],
    inboxRows,
  };
}

/**
 * Builds a plan from a seed: `groupSizes` conversations (sizes in members; users are disjoint across
 * conversations unless `overlap` adds each user to further conversations), `messages` messages with a
 * random conversation and a random member as sender, and one device per user plus a second one for
 * every `secondDeviceEvery`-th user.
 */
export function makePlan(options: {
  seed: number;
  prefix: string;
  groupSizes: readonly number[];
  messages: number;
  largeGroupThreshold: number;
  /** Extra memberships per user, drawn at random (users then belong to several conversations). */
  overlap?: number;
  secondDeviceEvery?: number;
  syncLimits?: readonly number[];
}): Plan {
  const random = prng(options.seed);
  let user = 0;
  const memberSets: Set<string>[] = options.groupSizes.map((size) => {
    const set = new Set<string>();
    for (let i = 0; i < size; i++) set.add(`${options.prefix}u${user++}`);
    return set;
  });
  const users = memberSets.flatMap((set) => [...set]);
  for (let extra = 0; extra < (options.overlap ?? 0) * users.length; extra++) {
    const u = users[pick(random, users.length)]!;
    memberSets[pick(random, memberSets.length)]!.add(u);
  }
  const conversations = memberSets.map((set, i) => ({ id: `${options.prefix}c${i}`, members: [...set] }));
  const sends: { conversationId: string; senderId: string }[] = [];
  for (let n = 0; n < options.messages; n++) {
    const c = conversations[pick(random, conversations.length)]!;
    sends.push({ conversationId: c.id, senderId: c.members[pick(random, c.members.length)]! });
  }
  const limits = options.syncLimits ?? [1, 3, 10, 50];
  const devices: DeviceSpec[] = [];
  users.forEach((userId, i) => {
    devices.push({ userId, limit: limits[i % limits.length]! });
    if (options.secondDeviceEvery !== undefined && i % options.secondDeviceEvery === 0) devices.push({ userId, limit: limits[(i + 1) % limits.length]! });
  });
  return planFrom({ conversations, sends, devices, largeGroupThreshold: options.largeGroupThreshold });
}

/** What the clients went through. */
export interface SendStats {
  /** Messages delivered to every recipient (each counted once). */
  delivered: number;
  /** Send calls beyond the first per message (the client's re-sends). */
  resends: number;
  /** Send calls that threw (all retryable). */
  thrown: number;
  /** Send calls that resolved with failed inboxes (all retryable). */
  partial: number;
  /** Errors by code / backend code, e.g. `BACKEND/OTSServerBusy`. */
  readonly errors: Map<string, number>;
  /** Non-retryable failures: these fail the run. */
  readonly fatal: string[];
  /** Store seq of each message, by messageId (kept when `keepSeqs`). */
  readonly seqs: Map<string, bigint>;
  /** Slowest send call, in ms. */
  maxSendMs: number;
}

export function newSendStats(): SendStats {
  return { delivered: 0, resends: 0, thrown: 0, partial: 0, errors: new Map(), fatal: [], seqs: new Map(), maxSendMs: 0 };
}

function countError(stats: SendStats, error: TimelineError): void {
  const label = `${error.code}/${(error as { backendCode?: string }).backendCode ?? '-'}`;
  stats.errors.set(label, (stats.errors.get(label) ?? 0) + 1);
}

/**
 * The client: sends one message, and while the send throws a retryable error or reports failed
 * inboxes, re-sends it with the same messageId. A non-retryable error stops it (recorded as fatal).
 */
export async function sendUntilDelivered(
  messenger: Messenger<Msg>,
  plan: Plan,
  m: PlannedMessage,
  stats: SendStats,
  options: { maxAttempts?: number; keepSeqs?: boolean } = {},
): Promise<SendResult<Msg> | undefined> {
  const c = plan.byId.get(m.conversationId)!;
  const maxAttempts = options.maxAttempts ?? 50;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) stats.resends += 1;
    const started = performance.now();
    try {
      const result = await messenger.send({
        conversationId: m.conversationId,
        senderId: m.senderId,
        recipients: c.members,
        message: { k: m.k, text: `message ${m.k} of ${m.senderId} in ${m.conversationId}` },
        messageId: m.messageId,
      });
      stats.maxSendMs = Math.max(stats.maxSendMs, performance.now() - started);
      if (result.fanOut.failed.length === 0) {
        stats.delivered += 1;
        if (options.keepSeqs) stats.seqs.set(m.messageId, result.entry.seq);
        return result;
      }
      stats.partial += 1;
      for (const f of result.fanOut.failed) {
        countError(stats, f.error);
        if (!f.error.retryable) {
          stats.fatal.push(`${m.messageId} → ${f.receiverId}: ${f.error.code} ${f.error.message}`);
          return result;
        }
      }
    } catch (error) {
      stats.maxSendMs = Math.max(stats.maxSendMs, performance.now() - started);
      stats.thrown += 1;
      if (!(error instanceof TimelineError)) throw error;
      countError(stats, error);
      if (!error.retryable) {
        stats.fatal.push(`${m.messageId}: ${error.code} ${error.message}`);
        return undefined;
      }
    }
  }
  stats.fatal.push(`${m.messageId}: not delivered after ${maxAttempts} attempts`);
  return undefined;
}

/** Runs every sender (each sequential, `concurrency` senders at once). */
export async function runSenders(
  messenger: Messenger<Msg>,
  plan: Plan,
  stats: SendStats,
  options: { concurrency: number; maxAttempts?: number; keepSeqs?: boolean; onSent?: () => void },
): Promise<void> {
  const limit = pLimit(options.concurrency);
  await Promise.all(
    [...plan.bySender.values()].map((messages) =>
      limit(async () => {
        for (const m of messages) {
          await sendUntilDelivered(messenger, plan, m, stats, options);
          options.onSent?.();
        }
      }),
    ),
  );
}

/**
 * One device: a cursor; the message ids it received; and per (conversation, sender) the next
 * message index it expects (order) and how many distinct messages it received (completeness).
 */
export class TrackingDevice {
  cursor: string | undefined;
  receipts = 0;
  repeats = 0;
  outOfOrder = 0;
  seqMismatches = 0;
  syncRetries = 0;
  syncCalls = 0;
  busy = false;
  readonly problems: string[] = [];
  readonly next = new Map<string, number>();
  readonly distinct = new Map<string, number>();
  readonly seen = new Set<string>();
  /** Every entry, in order, when kept. */
  readonly entries: MessengerEntry<Msg>[] | undefined;

  constructor(
    readonly userId: string,
    readonly limit: number,
    keepEntries = false,
  ) {
    this.entries = keepEntries ? [] : undefined;
  }

  #problem(text: string): void {
    if (this.problems.length < 5) this.problems.push(`${this.userId}/limit ${this.limit}: ${text}`);
  }

  receive(entry: MessengerEntry<Msg>, seqs: ReadonlyMap<string, bigint> | undefined): void {
    this.receipts += 1;
    this.entries?.push(entry);
    const id = entry.messageId ?? '';
    const got = entry.message.k;
    if (id !== `${entry.conversationId}:${entry.senderId}:${got}`) this.#problem(`entry ${id} carries message ${got}`);
    if (this.seen.has(id)) {
      this.repeats += 1;
      this.#problem(`received ${id} again`);
      return;
    }
    this.seen.add(id);
    const k = key(entry.conversationId, entry.senderId);
    this.distinct.set(k, (this.distinct.get(k) ?? 0) + 1);
    const expected = this.next.get(k) ?? 0;
    if (got !== expected) {
      this.outOfOrder += 1;
      this.#problem(`${id} arrived while index ${expected} was expected`);
    }
    if (got >= expected) this.next.set(k, got + 1);
    const seq = seqs?.get(id);
    if (seqs !== undefined && seq !== entry.seq) {
      this.seqMismatches += 1;
      this.#problem(`${id} has store seq ${entry.seq}, history says ${seq}`);
    }
  }

  /** One sync call, retried with the same cursor while it fails retryably. */
  async syncOnce(messenger: Messenger<Msg>, seqs?: ReadonlyMap<string, bigint>, maxAttempts = 30): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.syncCalls += 1;
        const result = await messenger.sync(this.userId, { cursor: this.cursor, limit: this.limit });
        for (const entry of result.entries) this.receive(entry, seqs);
        this.cursor = result.cursor;
        return result.hasMore;
      } catch (error) {
        if (!(error instanceof TimelineError) || !error.retryable || attempt >= maxAttempts) throw error;
        this.syncRetries += 1;
      }
    }
  }

  /** Syncs until nothing more is waiting. */
  async drain(messenger: Messenger<Msg>, seqs?: ReadonlyMap<string, bigint>): Promise<void> {
    for (let calls = 0; calls < 1_000_000; calls++) if (!(await this.syncOnce(messenger, seqs))) return;
    throw new Error(`${this.userId}: sync still reports hasMore`);
  }
}

export function makeDevices(plan: Plan, keepEntries = false): TrackingDevice[] {
  return plan.devices.map((d) => new TrackingDevice(d.userId, d.limit, keepEntries));
}

/**
 * Devices syncing in the background while messages are sent: `workers` loops, each taking a
 * random idle device and making one sync call per credit. Every delivered message grants
 * `syncsPerSend` credits (call `sent()`, e.g. as `runSenders`'s `onSent`), so the number of
 * background syncs follows the workload, not the clock: a timed loop syncs more the slower the
 * sends are, which on a loaded machine adds load exactly when there is least to spare (seen: 44,000
 * reads for 100 messages). `stop()` ends the loops; credits left over are dropped.
 */
export function backgroundSync(
  messenger: Messenger<Msg>,
  devices: readonly TrackingDevice[],
  options: { seed: number; workers: number; syncsPerSend: number },
): { sent(): void; stop(): Promise<void> } {
  const random = prng(options.seed);
  let stopped = false;
  let failure: unknown;
  let credits = 0;
  const waiting: (() => void)[] = [];
  const wake = (): void => {
    for (const resume of waiting.splice(0)) resume();
  };
  const loops = Array.from({ length: options.workers }, async () => {
    while (!stopped && failure === undefined) {
      if (credits === 0) {
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      const device = devices[pick(random, devices.length)]!;
      if (device.busy) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      credits -= 1;
      device.busy = true;
      try {
        await device.syncOnce(messenger);
      } catch (error) {
        failure ??= error;
      } finally {
        device.busy = false;
      }
    }
  });
  return {
    sent: () => {
      credits += options.syncsPerSend;
      wake();
    },
    /** Ends the loops; rejects with the first error a sync could not recover from. */
    stop: async () => {
      stopped = true;
      wake();
      await Promise.all(loops);
      if (failure !== undefined) throw failure;
    },
  };
}

/** Drains every device, `concurrency` at a time. */
export async function drainAll(messenger: Messenger<Msg>, devices: readonly TrackingDevice[], concurrency = 8, seqs?: ReadonlyMap<string, bigint>): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(devices.map((d) => limit(() => d.drain(messenger, seqs))));
}

/** The verdict of a run. Every count but `receipts` and `delivered` must be 0. */
export interface Verdict {
  /** Device receipts, all devices. */
  receipts: number;
  /** (recipient, message) pairs that every device of the recipient received exactly once, in order. */
  delivered: number;
  /** Receipts of a message a device had already received. */
  duplicates: number;
  /** (device, message) pairs never received, plus messages missing from their conversation's history. */
  lost: number;
  /** Messages received (or stored) out of their sender's order. */
  outOfOrder: number;
  /** Inbox entries whose store seq differs from the history's. */
  seqMismatches: number;
  /** Entries in the history beyond one per message. */
  historyDuplicates: number;
  readonly problems: string[];
}

/**
 * Checks every device against the plan (exactly once, in each sender's order) and reads every
 * conversation's history (newest first, page by page) for the same.
 */
export async function verify(
  plan: Plan,
  devices: readonly TrackingDevice[],
  messenger: Messenger<Msg>,
  options: { pageLimit?: number; seqs?: ReadonlyMap<string, bigint> } = {},
): Promise<Verdict> {
  const verdict: Verdict = { receipts: 0, delivered: 0, duplicates: 0, lost: 0, outOfOrder: 0, seqMismatches: 0, historyDuplicates: 0, problems: [] };
  const problem = (text: string): void => {
    if (verdict.problems.length < 20) verdict.problems.push(text);
  };
  // Per user: the (conversation, sender) pairs the user must receive, with counts.
  const expectedOf = new Map<string, { k: string; count: number }[]>();
  for (const [k, count] of plan.sent) {
    const conversationId = k.slice(0, k.indexOf('\u0000'));
    for (const u of plan.byId.get(conversationId)!.members) {
      const list = expectedOf.get(u) ?? [];
      list.push({ k, count });
      expectedOf.set(u, list);
    }
  }
  const devicesOf = new Map<string, TrackingDevice[]>();
  for (const d of devices) {
    verdict.receipts += d.receipts;
    verdict.duplicates += d.repeats;
    verdict.outOfOrder += d.outOfOrder;
    verdict.seqMismatches += d.seqMismatches;
    for (const p of d.problems) problem(p);
    if (options.seqs !== undefined && d.entries !== undefined) {
      // Every inbox envelope points at the message's entry in the history (first receipts: a
      // repeat is already counted as a duplicate).
      const checked = new Set<string>();
      for (const e of d.entries) {
        if (checked.has(e.messageId ?? '')) continue;
        checked.add(e.messageId ?? '');
        if (options.seqs.get(e.messageId ?? '') === e.seq) continue;
        verdict.seqMismatches += 1;
        problem(`${d.userId}: ${e.messageId} has store seq ${e.seq}, the send returned ${options.seqs.get(e.messageId ?? '')}`);
      }
    }
    const list = devicesOf.get(d.userId) ?? [];
    list.push(d);
    devicesOf.set(d.userId, list);
  }
  for (const [userId, list] of devicesOf) {
    const expected = expectedOf.get(userId) ?? [];
    const expectedKeys = new Set(expected.map((e) => e.k));
    for (const { k, count } of expected) {
      let everyDevice = true;
      for (const d of list) {
        const got = d.distinct.get(k) ?? 0;
        if (got < count) {
          verdict.lost += count - got;
          everyDevice = false;
          problem(`${userId}/limit ${d.limit}: received ${got} of ${count} messages of ${k.replace('\u0000', ' from ')}`);
        } else if (got > count) {
          verdict.duplicates += got - count;
          problem(`${userId}/limit ${d.limit}: received ${got} distinct messages of ${k.replace('\u0000', ' from ')}, ${count} were sent`);
        }
      }
      if (everyDevice) verdict.delivered += count;
    }
    for (const d of list) {
      for (const [k, got] of d.distinct) {
        if (expectedKeys.has(k)) continue;
        verdict.duplicates += got;
        problem(`${userId}/limit ${d.limit}: received ${got} messages of ${k.replace('\u0000', ' from ')}, a conversation the user is not in`);
      }
    }
  }
  // Histories, newest first.
  const pageLimit = options.pageLimit ?? 37;
  for (const c of plan.conversations) {
    const entries: MessengerEntry<Msg>[] = [];
    let before: bigint | undefined;
    for (;;) {
      let page;
      for (let attempt = 1; ; attempt++) {
        try {
          page = await messenger.history(c.id, { limit: pageLimit, ...(before === undefined ? {} : { before }) });
          break;
        } catch (error) {
          if (!(error instanceof TimelineError) || !error.retryable || attempt >= 30) throw error;
        }
      }
      entries.push(...page.entries);
      if (!page.hasMore) break;
      before = page.next;
    }
    entries.reverse();
    const next = new Map<string, number>();
    let previousSeq = -1n;
    for (const e of entries) {
      if (e.seq <= previousSeq) {
        verdict.outOfOrder += 1;
        problem(`history of ${c.id}: seq ${e.seq} after ${previousSeq}`);
      }
      previousSeq = e.seq;
      const k = key(c.id, e.senderId);
      const expected = next.get(k) ?? 0;
      if (e.message.k === expected) next.set(k, expected + 1);
      else if (e.message.k < expected) {
        verdict.historyDuplicates += 1;
        problem(`history of ${c.id}: ${e.messageId} stored again (seq ${e.seq})`);
      } else {
        verdict.outOfOrder += 1;
        problem(`history of ${c.id}: ${e.messageId} stored while index ${expected} was expected`);
        next.set(k, e.message.k + 1);
      }
    }
    for (const [k, count] of plan.sent) {
      if (!k.startsWith(`${c.id}\u0000`)) continue;
      const got = next.get(k) ?? 0;
      if (got < count) {
        verdict.lost += count - got;
        problem(`history of ${c.id}: ${got} of ${count} messages of ${k.replace('\u0000', ' from ')}`);
      }
    }
  }
  return verdict;
}
