/**
 * Fan-out through the official `tablestore` SDK against the local emulator (in its own process)
 * with 5 ms of latency added to every request, in round trips of one small request measured in
 * the same run: one message to groups of 10, 100, 500 and 2,000 members: `fanOut` (store PutRow,
 * then the inbox batches) and `Messenger.send` (with and without the dedupe read it makes first),
 * against the source article's sequential `putRow` loop, a naive `Promise.all` of `putRow`s, and
 * hand-written raw-SDK batches (the floor this SDK reaches on this machine).
 *
 * Requests are counted by the emulator, so they are exact; client CPU time is this process's
 * `process.cpuUsage()`. Times are medians; every ratio compares figures of the same run.
 */
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, fanOut, type InboxMessage, type StoredMessage } from '../src/index.js';
import type { TableStoreClientLike } from '../src/backends/tablestore/sdk-types.js';
import { formatValue, median, type ResultRow, type SuiteContext, type SuiteResult } from './harness.js';
import {
  BATCH_ROWS,
  CHAT,
  CONCURRENCY,
  CURSOR_SECRET,
  IGNORE,
  LATENCY_MS,
  SENT_AT,
  SEVEN_DAYS,
  TableStore,
  closeTarget,
  createTimelineTable,
  describeCounts,
  ms,
  n$,
  openTarget,
  perItem,
  range,
  rawPayload,
  sameCounts,
  sampleRoundTrips,
  timed,
  total,
  type Chat,
  type Counts,
  type Measurement,
  type Target,
} from './sdk-target.js';

interface FanoutSizes {
  readonly groups: readonly number[];
  /** Timed repetitions of the fast contenders (the library, the raw batches). */
  readonly reps: number;
  /** Timed repetitions of the slow baselines at group size n. */
  readonly slowReps: (n: number) => number;
  /** Round-trip samples taken before each group size. */
  readonly rttSamples: number;
}

const FANOUT_FULL: FanoutSizes = {
  groups: [10, 100, 500, 2000],
  reps: 7,
  slowReps: (n) => (n >= 2000 ? 1 : 3),
  rttSamples: 20,
};

const FANOUT_QUICK: FanoutSizes = {
  groups: [10, 100, 500],
  reps: 3,
  slowReps: () => 1,
  rttSamples: 10,
};

/** What one timed run returns: how many receivers hold the message afterwards. */
type Run = () => Promise<number>;

interface Contender {
  readonly key: 'fanOut' | 'send' | 'sendNoCheck' | 'rawBatch' | 'naive' | 'sequential';
  readonly label: string;
  readonly slow: boolean;
  /** Creates the tables (untimed) and returns the timed run. */
  prepare(target: Target, members: readonly string[], messageId: string): Promise<Run>;
}

const CONVERSATION = 'group:bench';

function envelope(seq: bigint): InboxMessage<Chat> {
  return { conversationId: CONVERSATION, seq, senderId: 'user:0', sentAt: SENT_AT, message: CHAT };
}

async function libraryTables(target: Target): Promise<{ history: StoreTimeline<StoredMessage<Chat>>; inbox: SyncTimeline<InboxMessage<Chat>>; store: TimelineStore<StoredMessage<Chat>> }> {
  const store = new TimelineStore<StoredMessage<Chat>>({ backend: target.backend, table: 'im_store' });
  const inboxStore = new TimelineStore<InboxMessage<Chat>>({ backend: target.backend, table: 'im_sync', ttlSeconds: SEVEN_DAYS });
  await Promise.all([store.init(), inboxStore.init()]);
  return { history: new StoreTimeline(store), inbox: new SyncTimeline(inboxStore, { cursorSecret: CURSOR_SECRET }), store };
}


/** The raw contenders' store write (the article's first step); returns the conversation seq. */
async function rawStore(client: TableStoreClientLike, messageId: string): Promise<bigint> {
  const response = await client.putRow({
    tableName: 'im_store',
    condition: IGNORE(),
    primaryKey: [{ timeline_id: CONVERSATION }, { seq_id: TableStore.PK_AUTO_INCR }],
    attributeColumns: [{ payload: rawPayload({ senderId: 'user:0', sentAt: SENT_AT, message: CHAT }) }, { message_id: messageId }],
    returnContent: { returnType: TableStore.ReturnType.Primarykey },
  });
  const cell = response.row?.primaryKey?.find((c) => c.name === 'seq_id');
  if (cell === undefined) throw new Error('the store PutRow returned no seq');
  return BigInt((cell.value as { toString(radix: number): string }).toString(10));
}

/** One member's inbox row, exactly the article's putRow request. */
function inboxPut(member: string, payload: Buffer, messageId: string): Record<string, unknown> {
  return {
    tableName: 'im_sync',
    condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
    primaryKey: [{ timeline_id: member }, { seq_id: TableStore.PK_AUTO_INCR }],
    attributeColumns: [{ payload }, { message_id: messageId }],
    returnContent: { returnType: TableStore.ReturnType.Primarykey },
  };
}

async function rawTables(target: Target): Promise<void> {
  await Promise.all([createTimelineTable(target.client, 'im_store', -1), createTimelineTable(target.client, 'im_sync', SEVEN_DAYS)]);
}

// One Messenger.send of the message to every member, checked to be a first, write-diffused send.
function sendRun(messenger: Messenger<Chat>, members: readonly string[], messageId: string): Run {
  return async () => {
    // The sender is a member: with deliverToSender (default) the inboxes are exactly the N members.
    const result = await messenger.send({ conversationId: CONVERSATION, senderId: members[0]!, recipients: members, message: CHAT, messageId });
    if (result.mode !== 'write' || result.duplicate) throw new Error(`unexpected send result: mode ${result.mode}, duplicate ${result.duplicate}`);
    return result.fanOut.delivered.length;
  };
}

const CONTENDERS: readonly Contender[] = [
  {
    key: 'fanOut',
    label: 'fanOut (store PutRow, then batches)',
    slow: false,
    async prepare(target, members, messageId) {
      const { history, inbox } = await libraryTables(target);
      return async () => {
        const stored = await history.append(CONVERSATION, { senderId: 'user:0', sentAt: SENT_AT, message: CHAT }, { messageId });
        const result = await fanOut(inbox, members, envelope(stored.seq), { messageId, concurrency: CONCURRENCY });
        return result.delivered.length;
      };
    },
  },
  {
    key: 'send',
    label: 'Messenger.send, journal: false (dedupe read, store, batches)',
    slow: false,
    async prepare(target, members, messageId) {
      const { history, inbox, store } = await libraryTables(target);
      // A conversation with history, so that the dedupe read reads a full window (100 entries).
      await store.appendBatch(
        Array.from({ length: 100 }, (_, i) => ({ timelineId: CONVERSATION, message: { senderId: `user:${i}`, sentAt: SENT_AT - 1000 + i, message: CHAT }, messageId: `old-${i}` })),
      );
      const messenger = new Messenger<Chat>({ store: history, sync: inbox, largeGroupThreshold: Number.POSITIVE_INFINITY, concurrency: CONCURRENCY, journal: false });
      return sendRun(messenger, members, messageId);
    },
  },
  {
    key: 'sendNoCheck',
    label: 'Messenger.send, journal: false, checkBeforeSend: false (store, batches)',
    slow: false,
    async prepare(target, members, messageId) {
      const { history, inbox } = await libraryTables(target);
      const messenger = new Messenger<Chat>({ store: history, sync: inbox, largeGroupThreshold: Number.POSITIVE_INFINITY, concurrency: CONCURRENCY, checkBeforeSend: false, journal: false });
      return sendRun(messenger, members, messageId);
    },
  },
  {
    key: 'rawBatch',
    label: 'raw SDK batches in parallel (floor)',
    slow: false,
    async prepare(target, members, messageId) {
      await rawTables(target);
      const client = target.client;
      return async () => {
        const seq = await rawStore(client, messageId);
        const payload = rawPayload(envelope(seq));
        const batches: string[][] = [];
        for (let i = 0; i < members.length; i += BATCH_ROWS) batches.push(members.slice(i, i + BATCH_ROWS));
        const answers = await Promise.all(
          batches.map((batch) => client.batchWriteRow({ tables: [{ tableName: 'im_sync', rows: batch.map((m) => ({ type: 'PUT', ...inboxPut(m, payload, messageId) })) }] })),
        );
        return answers.reduce((sum, a) => sum + (a.tables ?? []).filter((r) => r.isOk).length, 0);
      };
    },
  },
  {
    key: 'naive',
    label: 'naive Promise.all of putRow',
    slow: true,
    async prepare(target, members, messageId) {
      await rawTables(target);
      const client = target.client;
      return async () => {
        const seq = await rawStore(client, messageId);
        const payload = rawPayload(envelope(seq));
        const answers = await Promise.all(members.map((m) => client.putRow(inboxPut(m, payload, messageId))));
        return answers.filter((a) => a.row?.primaryKey?.length).length;
      };
    },
  },
  {
    key: 'sequential',
    label: "the article's sequential putRow loop",
    slow: true,
    async prepare(target, members, messageId) {
      await rawTables(target);
      const client = target.client;
      return async () => {
        const seq = await rawStore(client, messageId);
        const payload = rawPayload(envelope(seq));
        let written = 0;
        for (const member of members) {
          const answer = await client.putRow(inboxPut(member, payload, messageId));
          if (answer.row?.primaryKey?.length) written++;
        }
        return written;
      };
    },
  },
];

let runCounter = 0;

/** One timed run on a freshly reset emulator (its in-memory tables stay small, see docs). */
async function measure(target: Target, contender: Contender, members: readonly string[]): Promise<Measurement> {
  await target.emu.reset();
  const messageId = `m-${++runCounter}`;
  const run = await contender.prepare(target, members, messageId);
  const { result: delivered, ms, cpuMs, idleMs, requests } = await timed(target, run);
  if (delivered !== members.length) throw new Error(`${contender.label}, N = ${members.length}: ${delivered} of ${members.length} inboxes written`);
  return { ms, cpuMs, idleMs, requests };
}

function members(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user:${i}`);
}

/** Expected requests of fanOut: the store PutRow plus one BatchWriteRow per 200 inboxes (a lone inbox is a PutRow). */
function fanOutTarget(n: number): number {
  return 1 + Math.ceil(n / BATCH_ROWS);
}

/** The fan-out suite: one message to groups of 10-2,000 members, every contender. */
export async function runFanoutBench(context: SuiteContext): Promise<SuiteResult> {
  const sizes = context.quick ? FANOUT_QUICK : FANOUT_FULL;
  const target = await openTarget(LATENCY_MS);
  try {
    const rtts: number[] = [];
    const times = new Map<string, Measurement[]>();
    const record = (key: string, m: Measurement): void => {
      const list = times.get(key) ?? [];
      list.push(m);
      times.set(key, list);
    };

    context.progress('warm-up: every contender once at N = 100 (the sequential loop at N = 10)');
    for (const c of CONTENDERS) await measure(target, c, members(c.key === 'sequential' ? 10 : 100));

    for (const n of sizes.groups) {
      const group = members(n);
      rtts.push(...(await sampleRoundTrips(target, 'PutRow', sizes.rttSamples)));
      const slowReps = sizes.slowReps(n);
      const slowEstimate = (n + 1) * median(rtts) * slowReps * 1.4;
      context.progress(
        `N = ${n$(n)}: ${sizes.reps} × fanOut, Messenger.send (with and without its check), raw batches; ${slowReps} × naive Promise.all and the sequential loop (~${Math.max(1, Math.round(slowEstimate / 1000))} s)`,
      );
      const rounds = Math.max(sizes.reps, slowReps);
      for (let round = 0; round < rounds; round++) {
        const lineup = CONTENDERS.filter((c) => round < (c.slow ? slowReps : sizes.reps));
        // Rotate the order each round so that drift (a neighbour's job, heap growth) hits all alike.
        const ordered = lineup.map((_, i) => lineup[(i + round) % lineup.length]!);
        for (const c of ordered) record(`${c.key}@${n}`, await measure(target, c, group));
      }
    }
    rtts.push(...(await sampleRoundTrips(target, 'PutRow', sizes.rttSamples)));

    const rtt = median(rtts);
    const rows: ResultRow[] = [
      {
        metric: 'round trip: one small PutRow (raw SDK)',
        value: rtt,
        unit: 'ms',
        detail: `median of ${rtts.length} taken before, between and after the groups (range ${range(rtts)} ms): ${LATENCY_MS} ms added latency + HTTP, SDK and emulator time`,
      },
    ];
    const list = (key: string): readonly Measurement[] => times.get(key)!;
    const wall = (key: string): number => median(list(key).map((m) => m.ms));
    const cpu = (key: string): number => median(list(key).map((m) => m.cpuMs));
    const countsOf = (key: string): Counts => list(key)[0]!.requests;
    const stable = (key: string): boolean => list(key).every((m) => sameCounts(m.requests, countsOf(key)));
    const timing = (key: string, n: number): string => {
      const walls = list(key).map((m) => m.ms);
      return `${ms(median(walls))}, median of ${walls.length}${walls.length > 1 ? ` (range ${range(walls)} ms)` : ''}; client CPU ${ms(cpu(key))}, ${perItem(cpu(key), n)} per inbox; ${describeCounts(countsOf(key))}`;
    };
    const largest = sizes.groups[sizes.groups.length - 1]!;

    for (const n of sizes.groups) {
      const k = `@${n}`;
      const at = `N = ${n$(n)}`;
      const expected = fanOutTarget(n);
      for (const c of CONTENDERS) {
        const key = `${c.key}${k}`;
        const roundTrips = wall(key) / rtt;
        const row: ResultRow = { metric: `${at} · ${c.label}: wall time`, value: roundTrips, unit: 'round trips', detail: timing(key, n) };
        if (n === 2000 && c.key === 'fanOut') rows.push({ ...row, target: '≤ 4 (floor: 2)', met: roundTrips <= 4 });
        else if (n === 2000 && c.key === 'send') rows.push({ ...row, target: '≤ 4 + 1 (its dedupe read)', met: roundTrips <= 5 });
        else if (n === 2000 && c.key === 'sendNoCheck') rows.push({ ...row, target: '≤ 4 (floor: 2)', met: roundTrips <= 4 });
        else rows.push(row);
        if (c.key !== 'sequential') rows.push({ metric: `${at} · ${c.label}: client CPU per inbox`, value: (cpu(key) / n) * 1000, unit: 'µs', detail: `process.cpuUsage() of the client process over the timed run (median of ${list(key).length}): ${ms(cpu(key))}` });
        if (c.key === 'fanOut' || c.key === 'send' || c.key === 'sendNoCheck') {
          const extra = c.key === 'send' ? 1 : 0;
          const got = total(countsOf(key));
          rows.push({
            metric: `${at} · ${c.label}: requests`,
            value: got,
            unit: 'requests',
            target: `= 1 + ⌈N/200⌉${extra ? ' + 1 dedupe GetRange' : ''} = ${expected + extra}`,
            met: got === expected + extra && stable(key),
            detail: `${describeCounts(countsOf(key))}, the same in all ${list(key).length} runs${stable(key) ? '' : ' — NOT the same in every run'}`,
          });
        }
      }
      for (const key of ['fanOut', 'send', 'rawBatch'] as const) {
        const speedup = wall(`sequential${k}`) / wall(`${key}${k}`);
        const row: ResultRow = {
          metric: `${at} · ${{ fanOut: 'fanOut', send: 'Messenger.send', rawBatch: 'raw SDK batches' }[key]}: speed-up over the sequential loop`,
          value: speedup,
          unit: '×',
          detail: `${ms(wall(`sequential${k}`))} ÷ ${ms(wall(`${key}${k}`))}; over the naive Promise.all: ${formatValue(wall(`naive${k}`) / wall(`${key}${k}`))}×`,
        };
        rows.push(n === 500 && key !== 'rawBatch' ? { ...row, target: '≥ 100', met: speedup >= 100 } : row);
      }
      if (n === largest) {
        for (const key of ['fanOut', 'rawBatch'] as const) {
          const label = CONTENDERS.find((c) => c.key === key)!.label;
          const runs = list(`${key}${k}`);
          const busy = median(runs.map((m) => m.ms - m.idleMs));
          const idle = median(runs.map((m) => m.idleMs));
          rows.push({
            metric: `${at} · ${label}: of which busy (processing)`,
            value: busy / rtt,
            unit: 'round trips',
            detail: `${ms(busy)} with the event loop busy (median): SDK encoding and decoding, the library, GC; client CPU ${ms(cpu(`${key}${k}`))}, ${perItem(cpu(`${key}${k}`), n)} per inbox`,
          });
          rows.push({
            metric: `${at} · ${label}: of which waiting`,
            value: idle / rtt,
            unit: 'round trips',
            detail: `${ms(idle)} with the event loop idle, waiting for the emulator (median, range ${range(runs.map((m) => m.idleMs))} ms): the round trips not hidden behind processing`,
          });
        }
        rows.push({
          metric: `${at} · fanOut ÷ raw SDK batches: CPU time`,
          value: cpu(`fanOut${k}`) / cpu(`rawBatch${k}`),
          unit: '×',
          detail: `what the library adds over hand-written batches on the same SDK: validation, encoding per inbox, a write id per row, per-row outcomes (wall time: ${formatValue(wall(`fanOut${k}`) / wall(`rawBatch${k}`))}×)`,
        });
      }
    }
    const notes = [
      `The emulator runs in its own process (\`latencyMs: ${LATENCY_MS}\`), so its work is not counted as the client's; every run starts from a reset emulator and creates its two tables (untimed), so the emulator's in-memory tables stay small. Requests are the emulator's own counts over the timed part only.`,
      `A round trip is the median time of one small raw-SDK PutRow against the same emulator in the same run (${ms(rtt)}). "Wall time" rows give the median wall time in such round trips; "client CPU per inbox" is \`process.cpuUsage()\` of the benchmark process (the client alone) over the timed run, divided by the group size; for the largest group, \`performance.eventLoopUtilization()\` splits the wall time into busy time (SDK encoding and decoding, the library, GC) and idle time, waiting for the emulator's answers.`,
      `Contenders: \`fanOut\` = \`StoreTimeline.append\` then \`fanOut(inbox, members, …, { concurrency: ${CONCURRENCY} })\`; \`Messenger.send\` without its send journal (\`journal: false\`; the journal is measured in its own suite) with \`largeGroupThreshold: Infinity\`, \`concurrency: ${CONCURRENCY}\`, the sender among the members, on a conversation holding 100 earlier messages (its dedupe read is one GetRange of the newest 100), and again with \`checkBeforeSend: false\`, which skips that read (the in-process dedupe cache remains). The raw contenders use one \`TableStore.Client\` and write the same payload bytes: the store PutRow, then one \`putRow\` per member (the article's sample, in a loop, or all at once with \`Promise.all\`), or one \`batchWriteRow\` per 200 members, all in parallel (the floor this SDK reaches).`,
      `${sizes.reps} timed runs of the library and of the raw batches per group size; ${sizes.groups.map((n) => `${sizes.slowReps(n)} at N = ${n$(n)}`).join(', ')} of the naive and sequential baselines; the order of contenders rotates every round. No GC is forced before or during a timed run (a forced full GC deoptimises the SDK's hot code: the client looked about 3× slower per inbox with it).`,
    ];
    return { rows, notes };
  } finally {
    await closeTarget(target);
  }
}
