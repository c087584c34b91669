/**
 * The send journal's cost: `Messenger.send` with the journal (the default) next to the same send
 * without it (`journal: false`, which deduplicates by a read of the conversation's tail) and without
 * any check (`journal: false, checkBeforeSend: false`), at N = 2, 100 and 2,000 recipients, through
 * the official SDK against an emulator in its own process with 5 ms of latency per request. For each:
 * requests per send by API (the emulator's own counts), wall time in round trips of one small
 * request, and the client's CPU per inbox.
 */
import { Messenger, StoreTimeline, SyncTimeline, TimelineStore, type InboxMessage, type StoredMessage } from '../src/index.js';
import { median, type ResultRow, type SuiteContext, type SuiteResult } from './harness.js';
import {
  BATCH_ROWS,
  CHAT,
  closeTarget,
  CONCURRENCY,
  CURSOR_SECRET,
  describeCounts,
  LATENCY_MS,
  ms,
  n$,
  openTarget,
  perItem,
  range,
  sampleRoundTrips,
  SEVEN_DAYS,
  timed,
  total,
  type Chat,
  type Measurement,
  type Target,
} from './sdk-target.js';

const CONVERSATION = 'group:journal';

interface Variant {
  readonly key: 'journal' | 'tail' | 'none';
  readonly label: string;
  readonly options: { journal?: false; checkBeforeSend?: boolean };
  /** Requests beyond the store write and the fan-out batches. */
  readonly extra: number;
  readonly extraText: string;
}

const VARIANTS: readonly Variant[] = [
  { key: 'journal', label: 'Messenger.send with the send journal (default)', options: {}, extra: 2, extraText: '+ claim + finish' },
  { key: 'tail', label: 'Messenger.send, journal: false (tail read)', options: { journal: false }, extra: 1, extraText: '+ dedupe GetRange' },
  { key: 'none', label: 'Messenger.send, journal: false, checkBeforeSend: false', options: { journal: false, checkBeforeSend: false }, extra: 0, extraText: '' },
];

let runCounter = 0;

// A fresh emulator state, the Messenger's tables created (untimed), a conversation with 100 earlier
// messages (so the tail read reads a full window), then one timed send.
async function measure(target: Target, variant: Variant, recipients: readonly string[]): Promise<Measurement> {
  await target.emu.reset();
  const store = new TimelineStore<StoredMessage<Chat>>({ backend: target.backend, table: 'im_store' });
  const inbox = new TimelineStore<InboxMessage<Chat>>({ backend: target.backend, table: 'im_sync', ttlSeconds: SEVEN_DAYS });
  const messenger = new Messenger<Chat>({
    store: new StoreTimeline(store),
    sync: new SyncTimeline(inbox, { cursorSecret: CURSOR_SECRET }),
    largeGroupThreshold: Number.POSITIVE_INFINITY,
    concurrency: CONCURRENCY,
    ...variant.options,
  });
  await messenger.init();
  await store.appendBatch(Array.from({ length: 100 }, (_, i) => ({ timelineId: CONVERSATION, message: { senderId: `user:${i}`, sentAt: i, message: CHAT }, messageId: `old-${i}` })));
  const messageId = `m-${++runCounter}`;
  const { result, ...measurement } = await timed(target, () =>
    messenger.send({ conversationId: CONVERSATION, senderId: 'user:sender', recipients, message: CHAT, messageId }),
  );
  if (result.duplicate || result.fanOut.failed.length > 0 || result.fanOut.delivered.length !== recipients.length + 1) {
    throw new Error(`${variant.label}, N = ${recipients.length}: unexpected result (duplicate ${result.duplicate}, ${result.fanOut.failed.length} failed)`);
  }
  return measurement;
}

/** The journal suite. */
export async function runJournalBench(context: SuiteContext): Promise<SuiteResult> {
  const sizes = context.quick ? [2, 100] : [2, 100, 2000];
  const reps = context.quick ? 2 : 5;
  const target = await openTarget(LATENCY_MS);
  try {
    const times = new Map<string, Measurement[]>();
    const rtts: number[] = [];
    context.progress('warm-up: each variant once at N = 100');
    for (const v of VARIANTS) await measure(target, v, members(100));
    for (const n of sizes) {
      rtts.push(...(await sampleRoundTrips(target, 'PutRow', 10)));
      context.progress(`N = ${n$(n)}: ${reps} sends of each variant`);
      for (let round = 0; round < reps; round++) {
        // Rotate the order each round so that drift hits every variant alike.
        for (let i = 0; i < VARIANTS.length; i++) {
          const v = VARIANTS[(i + round) % VARIANTS.length]!;
          const key = `${v.key}@${n}`;
          times.set(key, [...(times.get(key) ?? []), await measure(target, v, members(n))]);
        }
      }
    }
    const rtt = median(rtts);
    const rows: ResultRow[] = [{ metric: 'round trip: one small PutRow (raw SDK)', value: rtt, unit: 'ms', detail: `median of ${rtts.length} (range ${range(rtts)} ms)` }];
    for (const n of sizes) {
      const fanOutRequests = Math.ceil((n + 1) / BATCH_ROWS);
      for (const v of VARIANTS) {
        const list = times.get(`${v.key}@${n}`)!;
        const counts = list[0]!.requests;
        const got = total(counts);
        const expected = 1 + fanOutRequests + v.extra;
        const same = list.every((m) => describeCounts(m.requests) === describeCounts(counts));
        const at = `N = ${n$(n)} · ${v.label}`;
        rows.push({
          metric: `${at}: requests`,
          value: got,
          unit: 'requests',
          target: `= 1 + ⌈(N+1)/200⌉ ${v.extraText} = ${expected}`.replace(/ {2}/g, ' '),
          met: got === expected && same,
          detail: `${describeCounts(counts)}${same ? `, the same in all ${list.length} runs` : ' — NOT the same in every run'}`,
        });
        const walls = list.map((m) => m.ms);
        const cpu = median(list.map((m) => m.cpuMs));
        rows.push({
          metric: `${at}: wall time`,
          value: median(walls) / rtt,
          unit: 'round trips',
          detail: `${ms(median(walls))}, median of ${walls.length} (range ${range(walls)} ms); client CPU ${ms(cpu)}, ${perItem(cpu, n + 1)} per inbox`,
        });
      }
    }
    return {
      rows,
      notes: [
        `One \`Messenger.send\` per run to N recipients plus the sender's own inbox, \`largeGroupThreshold: Infinity\`, \`concurrency: ${CONCURRENCY}\`, on a conversation holding 100 earlier messages; the emulator (the CLI) in its own process with ${LATENCY_MS} ms added latency, reset before every run, tables created untimed. Requests are the emulator's counts over the timed send only.`,
        'With the journal a send is a claim (one BatchWriteRow of the journal record and its pending hint), the store PutRow, the fan-out batches, and the finish (one BatchWriteRow: the record marked done, the hint deleted): `3 + ⌈(N+1)/200⌉`, with no per-recipient read; the claim replaces the tail read of `journal: false`, so the journal costs one request more than that and two more than no check at all, and removes the race between processes and the loss on a crash (docs/guarantees.md).',
      ],
    };
  } finally {
    await closeTarget(target);
  }
}

function members(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `user:${i}`);
}
