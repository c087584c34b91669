/**
 * The wire transport next to the SDK transport: the same library calls through
 * `TableStoreBackend({ transport: 'wire' })` and `({ transport: 'sdk' })`, on one emulator in its
 * own process, alternating run by run so that drift and load hit both alike. Reported: the
 * client's CPU (`process.cpuUsage`, this process only) per request of a 1:1 `Messenger.send`
 * (N = 2), per fanned-out row (N = 2,000), per synced entry (a 10,000-entry catch-up), each as
 * wire ÷ SDK from the same run; and the wall time of an N = 2,000 fan-out at 5 ms emulator
 * latency, in round trips of one small request.
 */
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../src/index.js';
import { TableStoreBackend } from '../src/backends/tablestore/index.js';
import type { TableStoreClientLike } from '../src/backends/tablestore/sdk-types.js';
import { wireCodec } from '../src/backends/tablestore/wire/codec.js';
import { WireClient } from '../src/backends/tablestore/wire/wire-client.js';
import { startEmulatorProcess } from '../test/support/emulator-process.js';
import { formatValue, median, type ResultRow, type SuiteContext, type SuiteResult } from './harness.js';
import { CHAT, CONCURRENCY, CURSOR_SECRET, IGNORE, LATENCY_MS, SENT_AT, SEVEN_DAYS, createTimelineTable, describeCounts, ms, n$, range, sampleRoundTrips, timed, TableStore, total, type Chat, type Measurement, type Target } from './sdk-target.js';

type Transport = 'wire' | 'sdk';
const TRANSPORTS: readonly Transport[] = ['sdk', 'wire'];

interface Sizes {
  readonly rounds: number;
  /** 1:1 sends per timed run. */
  readonly sends: number;
  readonly fanOut: number;
  readonly behind: number;
  readonly rttSamples: number;
}
const FULL: Sizes = { rounds: 9, sends: 200, fanOut: 2000, behind: 10_000, rttSamples: 30 };
const QUICK: Sizes = { rounds: 2, sends: 30, fanOut: 2000, behind: 2000, rttSamples: 10 };

/** One emulator process, a backend of each transport on it, and a bare client of each. */
interface Pair {
  readonly targets: Record<Transport, Target>;
  /** The clients alone, without the library: the SDK's, and the wire client the backend would create. */
  readonly clients: Record<Transport, TableStoreClientLike>;
  close(): Promise<void>;
}

async function openPair(latencyMs: number): Promise<Pair> {
  const emu = await startEmulatorProcess({ latencyMs, seed: 17 });
  const client = new TableStore.Client({ ...emu.clientConfig(), accessKeySecret: emu.accessKeySecret, maxRetries: 0, httpOptions: { timeout: 60_000 } });
  const backend = (transport: Transport): TableStoreBackend => new TableStoreBackend({ ...emu.connection(), transport, requestTimeoutMs: 60_000 });
  const targets = { sdk: { emu, backend: backend('sdk'), client }, wire: { emu, backend: backend('wire'), client } };
  const c = emu.connection();
  const wire = new WireClient({ ...c, timeoutMs: 60_000, codec: wireCodec(TableStore), retryRules: TableStore, maxRetries: 0 });
  return {
    targets,
    clients: { sdk: client, wire },
    close: async () => {
      await targets.sdk.backend.close();
      await targets.wire.backend.close();
      wire.destroy();
      await emu.close();
    },
  };
}

let ids = 0;

function messengerOn(target: Target): { messenger: Messenger<Chat>; store: TimelineStore<StoredMessage<Chat>>; inbox: TimelineStore<InboxMessage<Chat>> } {
  const store = new TimelineStore<StoredMessage<Chat>>({ backend: target.backend, table: 'im_store' });
  const inbox = new TimelineStore<InboxMessage<Chat>>({ backend: target.backend, table: 'im_sync', ttlSeconds: SEVEN_DAYS });
  const messenger = new Messenger<Chat>({ store: new StoreTimeline(store), sync: new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET }), largeGroupThreshold: Number.POSITIVE_INFINITY, concurrency: CONCURRENCY });
  return { messenger, store, inbox };
}

/** `count` 1:1 sends (N = 2: the peer and the sender's own inbox), one after another. */
async function oneToOne(target: Target, messenger: Messenger<Chat>, count: number): Promise<Measurement> {
  return timed(target, async () => {
    for (let i = 0; i < count; i++) {
      const conversationId = `dm:a:${i % 50}`;
      const result = await messenger.send({ conversationId, senderId: 'user:a', recipients: [`user:${i % 50}`], message: CHAT, messageId: `m-${++ids}` });
      if (result.fanOut.failed.length > 0 || result.duplicate) throw new Error('a 1:1 send failed');
    }
  });
}

/** `count` one-row PutRows (auto-increment, returning the key) through a bare client. */
async function barePuts(target: Target, client: TableStoreClientLike, count: number): Promise<Measurement> {
  return timed(target, async () => {
    for (let i = 0; i < count; i++) {
      await client.putRow({
        tableName: 'bare',
        condition: IGNORE(),
        primaryKey: [{ timeline_id: `dm:${i % 50}` }, { seq_id: TableStore.PK_AUTO_INCR }],
        attributeColumns: [{ payload: Buffer.from(JSON.stringify(CHAT)) }, { message_id: `b-${++ids}` }],
        returnContent: { returnType: TableStore.ReturnType.Primarykey },
      });
    }
  });
}

/** One send to `n` recipients (plus the sender's inbox). */
async function fanOut(target: Target, messenger: Messenger<Chat>, n: number): Promise<Measurement> {
  const recipients = Array.from({ length: n }, (_, i) => `user:${i}`);
  const measurement = await timed(target, () => messenger.send({ conversationId: 'group:big', senderId: 'user:sender', recipients, message: CHAT, messageId: `f-${++ids}` }));
  return measurement;
}

/** A device `behind` entries behind catches up with `sync` until `hasMore` is false. */
async function catchUp(target: Target, cursor: string, receiver: string, behind: number): Promise<Measurement> {
  const inbox = new TimelineStore<InboxMessage<Chat>>({ backend: target.backend, table: 'im_catchup', ttlSeconds: SEVEN_DAYS });
  const sync = new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET });
  const m = await timed(target, async () => {
    let c = cursor;
    let entries = 0;
    for (let calls = 0; calls < 1000; calls++) {
      const page = await sync.sync(receiver, { cursor: c, limit: behind });
      entries += page.entries.length;
      c = page.cursor;
      if (!page.hasMore) return entries;
    }
    throw new Error('catch-up did not end');
  });
  if (m.result !== behind) throw new Error(`catch-up read ${m.result} entries, expected ${behind}`);
  return m;
}

async function fillCatchUp(target: Target, receiver: string, behind: number): Promise<string> {
  const inbox = new TimelineStore<InboxMessage<Chat>>({ backend: target.backend, table: 'im_catchup', ttlSeconds: SEVEN_DAYS });
  const sync = new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET });
  const entry = (i: number): { timelineId: string; message: InboxMessage<Chat>; messageId: string } => ({
    timelineId: receiver,
    message: { conversationId: `group:${i % 37}`, seq: 1_767_225_600_000_000n + BigInt(i) * 977n, senderId: `user:${(i * 7919) % 5000}`, sentAt: SENT_AT + i, message: CHAT },
    messageId: `c-${i.toString(36)}`,
  });
  await inbox.appendBatch(Array.from({ length: 10 }, (_, i) => entry(i)));
  const seen = await sync.sync(receiver, { limit: 100 });
  for (let i = 0; i < behind; i += 2000) {
    const outcomes = await inbox.appendBatch(Array.from({ length: Math.min(2000, behind - i) }, (_, k) => entry(10 + i + k)), { concurrency: CONCURRENCY });
    if (outcomes.some((o) => !o.ok)) throw new Error('filling the catch-up inbox failed');
  }
  return seen.cursor;
}

type Runs = Record<Transport, Measurement[]>;
const empty = (): Runs => ({ sdk: [], wire: [] });

/** Runs `fn` for both transports, `rounds` times, alternating which goes first. */
async function alternate(rounds: number, fn: (transport: Transport) => Promise<Measurement>): Promise<Runs> {
  const runs = empty();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? TRANSPORTS : [...TRANSPORTS].reverse();
    for (const t of order) runs[t].push(await fn(t));
  }
  return runs;
}

/** Rows for one CPU comparison: µs per unit on each transport, and wire ÷ SDK with its target. */
function cpuRows(label: string, unit: string, runs: Runs, units: (m: Measurement) => number, target: number, aim?: number): ResultRow[] {
  const per = (t: Transport): number[] => runs[t].map((m) => (m.cpuMs * 1000) / units(m));
  const sdk = median(per('sdk'));
  const wire = median(per('wire'));
  const ratios = runs.wire.map((_, i) => per('wire')[i]! / per('sdk')[i]!);
  const ratio = wire / sdk;
  const counts = describeCounts(runs.wire[0]!.requests);
  const same = [...runs.sdk, ...runs.wire].every((m) => describeCounts(m.requests) === counts);
  return [
    { metric: `${label}: client CPU per ${unit}, sdk transport`, value: sdk, unit: 'µs', detail: `median of ${runs.sdk.length} runs (range ${range(per('sdk'))} µs)` },
    { metric: `${label}: client CPU per ${unit}, wire transport`, value: wire, unit: 'µs', detail: `median of ${runs.wire.length} runs (range ${range(per('wire'))} µs); requests per run ${counts}${same ? ', the same on both transports in every run' : ' — NOT the same in every run'}` },
    {
      metric: `${label}: client CPU per ${unit}, wire ÷ sdk`,
      value: ratio,
      unit: '×',
      target: `≤ ${target}${aim === undefined ? '' : ` (aim ${aim})`}`,
      met: ratio <= target && same,
      detail: `ratio of the medians; per alternating pair ${range(ratios)}`,
    },
  ];
}

/** The wire suite. */
export async function runWireBench(context: SuiteContext): Promise<SuiteResult> {
  const sizes = context.quick ? QUICK : FULL;
  const rows: ResultRow[] = [];
  // CPU is measured without added latency (it does not change the client's work, only the wait).
  const zero = await openPair(0);
  try {
    context.progress('warm-up: both transports, 1:1 sends and a fan-out');
    const im = { sdk: messengerOn(zero.targets.sdk), wire: messengerOn(zero.targets.wire) };
    await im.sdk.messenger.init();
    await im.wire.messenger.init();
    for (const t of TRANSPORTS) {
      await oneToOne(zero.targets[t], im[t].messenger, 20);
      await fanOut(zero.targets[t], im[t].messenger, 200);
    }

    context.progress(`1:1 Messenger.send (N = 2): ${sizes.rounds} × ${sizes.sends} sends per transport, alternating`);
    const sends = await alternate(sizes.rounds, (t) => oneToOne(zero.targets[t], im[t].messenger, sizes.sends));
    rows.push(...cpuRows('1:1 Messenger.send (N = 2)', 'request', sends, (m) => total(m.requests), 0.25));
    const perSend = (t: Transport): number => median(sends[t].map((m) => m.cpuMs / sizes.sends));
    rows.push({ metric: '1:1 Messenger.send (N = 2): client CPU per send, sdk → wire', value: perSend('wire'), unit: 'ms', detail: `sdk ${ms(perSend('sdk'))}, wire ${ms(perSend('wire'))}; ${formatValue(total(sends.wire[0]!.requests) / sizes.sends)} requests per send` });

    context.progress(`bare clients, no library: ${sizes.rounds} × ${sizes.sends} one-row PutRows per client, alternating`);
    await createTimelineTable(zero.clients.sdk, 'bare', -1);
    for (const t of TRANSPORTS) await barePuts(zero.targets[t], zero.clients[t], 20);
    const bare = await alternate(sizes.rounds, (t) => barePuts(zero.targets[t], zero.clients[t], sizes.sends));
    rows.push(...cpuRows('bare client, one-row PutRow (no library)', 'request', bare, (m) => total(m.requests), 0.25).map(({ target: _target, met: _met, ...row }) => row));

    context.progress(`fan-out N = ${n$(sizes.fanOut)}: ${sizes.rounds} sends per transport, alternating`);
    const fan = await alternate(sizes.rounds, (t) => fanOut(zero.targets[t], im[t].messenger, sizes.fanOut));
    rows.push(...cpuRows(`fan-out N = ${n$(sizes.fanOut)}`, 'fanned-out row', fan, () => sizes.fanOut + 1, 0.5, 0.4));

    context.progress(`catch-up: filling ${n$(sizes.behind)} entries, then ${sizes.rounds} catch-ups per transport, alternating`);
    const cursor = await fillCatchUp(zero.targets.wire, 'user:catchup', sizes.behind);
    for (const t of TRANSPORTS) await catchUp(zero.targets[t], cursor, 'user:catchup', sizes.behind);
    const syncs = await alternate(sizes.rounds, (t) => catchUp(zero.targets[t], cursor, 'user:catchup', sizes.behind));
    rows.push(...cpuRows(`catch-up of ${n$(sizes.behind)} entries`, 'synced entry', syncs, () => sizes.behind, 0.5));
  } finally {
    await zero.close();
  }

  const slow = await openPair(LATENCY_MS);
  try {
    context.progress(`fan-out N = ${n$(sizes.fanOut)} at ${LATENCY_MS} ms latency: round trips, then ${sizes.rounds} sends per transport`);
    // sampleRoundTrips resets the emulator: sample first, then create the Messengers and their tables.
    const rtts = await sampleRoundTrips(slow.targets.sdk, 'PutRow', sizes.rttSamples);
    const rtt = median(rtts);
    const im = { sdk: messengerOn(slow.targets.sdk), wire: messengerOn(slow.targets.wire) };
    await im.sdk.messenger.init();
    await im.wire.messenger.init();
    for (const t of TRANSPORTS) await fanOut(slow.targets[t], im[t].messenger, 200);
    const walls = await alternate(sizes.rounds, (t) => fanOut(slow.targets[t], im[t].messenger, sizes.fanOut));
    rows.push({ metric: `round trip: one small PutRow (raw SDK, ${LATENCY_MS} ms latency)`, value: rtt, unit: 'ms', detail: `median of ${rtts.length} (range ${range(rtts)} ms)` });
    for (const t of TRANSPORTS) {
      const list = walls[t].map((m) => m.ms);
      rows.push({
        metric: `fan-out N = ${n$(sizes.fanOut)} at ${LATENCY_MS} ms latency, ${t} transport: wall time`,
        value: median(list) / rtt,
        unit: 'round trips',
        detail: `${ms(median(list))}, median of ${list.length} (range ${range(list)} ms); ${describeCounts(walls[t][0]!.requests)}; client CPU ${ms(median(walls[t].map((m) => m.cpuMs)))}`,
      });
    }
  } finally {
    await slow.close();
  }
  return {
    rows,
    notes: [
      `Both transports run the same library calls on one emulator (the CLI, in its own process), alternating run by run (the order swapped each round); CPU is this process's \`process.cpuUsage\` (user + system, GC included) over the timed calls, with no GC forced, at 0 ms added latency; the wall-time rows at ${LATENCY_MS} ms.`,
      `Bare client: the SDK's \`TableStore.Client\` and the \`WireClient\` the wire transport creates, called directly (no library), ${sizes.sends} one-row PutRows per run: the transport's own share of a request, for reading the library rows against (no target: the issue's targets are for library calls). 1:1: ${sizes.sends} \`Messenger.send\` calls per run, one after another, each to one peer plus the sender's own inbox, with the send journal (the default); per request = the run's CPU ÷ the requests the emulator counted. Fan-out: one send to ${n$(sizes.fanOut)} recipients, \`largeGroupThreshold: Infinity\`, \`concurrency: ${CONCURRENCY}\`; per row = CPU ÷ ${n$(sizes.fanOut + 1)} inbox rows. Catch-up: \`SyncTimeline.sync\` with \`limit: ${n$(sizes.behind)}\` until \`hasMore\` is false, from a cursor ${n$(sizes.behind)} entries behind.`,
      "How the wire transport does the work: the backend's hot requests (appends, timeline pages, GetRow) are encoded straight from its own rows into the request body, and their answers decoded straight to its rows and per-row outcomes (seqs as bigints from their 8 bytes, payloads copied once), with no SDK-shaped params or results in between; its other requests (tables, keyed records) go through the shared codec (`src/codec/`) from SDK-shaped params. Both produce the SDK's bytes, which test/codec/ checks against the SDK's own encoder and decoder. Past the encoding, no request state machine or event emitters: headers signed directly, and header block and body handed to a keep-alive socket in one write instead of piped through two streams in 16 KB chunks.",
    ],
  };
}
