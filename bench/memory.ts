/**
 * The in-memory backend against a raw baseline doing the same work, in the same run: append
 * throughput (one timeline; 10,000 timelines), scan throughput and bytes per message.
 */
import { MemoryBackend, TimelineStore, type Timeline } from '../src/index.js';
import {
  compare,
  formatCompact,
  keepAlive,
  median,
  rateRange,
  retainedBytes,
  type Comparison,
  type ResultRow,
  type SuiteResult,
  type SuiteContext,
} from './harness.js';

/** A small IM message; its JSON is about 100 bytes (the suite reports the exact mean). */
export interface ChatMessage {
  id: string;
  from: string;
  to: string;
  type: 'text';
  text: string;
  at: number;
}

const TEXTS = ['ok', 'see you at 7', 'can you send the slides?', 'running late', 'lunch?', 'thanks 👍', 'the build is green', 'on my way'];

/** The i-th benchmark message: distinct ids, senders, conversations and timestamps. */
export function chatMessage(i: number): ChatMessage {
  return {
    id: `m-${(1_000_000 + i).toString(36)}`,
    from: `user:${(i * 7919) % 100_000}`,
    to: `group:${i % 9_973}`,
    type: 'text',
    text: TEXTS[i % TEXTS.length]!,
    at: 1_700_000_000_000 + i * 37,
  };
}

/**
 * The raw baseline: the least work that gives a caller the same isolation and the same answers.
 * Each message is serialised with `JSON.stringify` (so later changes to the caller's object do not
 * reach the stored copy), stored as that string in a plain array per timeline id in a `Map`, and
 * given an increasing bigint seq: its position + 1 (positions never change: the baseline never
 * deletes). No validation, no bigint support, no TTL, no async.
 *
 * One refinement makes it a stricter baseline: `JSON.stringify` returns a rope (a tree of string
 * parts) that costs about 85 bytes more per message while it is kept; reading one character
 * flattens it into one compact string, which is both smaller and, here, no slower.
 */
export class RawBaseline {
  readonly timelines = new Map<string, string[]>();
  /** Sum of the flattening reads, kept so that they cannot be optimised away. */
  checksum = 0;

  /** Appends in order; returns the seqs. */
  appendMany(timelineId: string, messages: readonly unknown[]): bigint[] {
    let list = this.timelines.get(timelineId);
    if (list === undefined) this.timelines.set(timelineId, (list = []));
    const seqs = new Array<bigint>(messages.length);
    for (let i = 0; i < messages.length; i++) seqs[i] = BigInt(list.push(this.#serialise(messages[i])));
    return seqs;
  }

  /** Appends one message to each of several timelines (what a fan-out does). */
  appendEach(items: readonly { timelineId: string; message: unknown }[]): bigint[] {
    const seqs = new Array<bigint>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      let list = this.timelines.get(item.timelineId);
      if (list === undefined) this.timelines.set(item.timelineId, (list = []));
      seqs[i] = BigInt(list.push(this.#serialise(item.message)));
    }
    return seqs;
  }

  #serialise(message: unknown): string {
    const json = JSON.stringify(message);
    this.checksum += json.charCodeAt(json.length >> 1);
    return json;
  }

  /** Visits every entry of a timeline in seq order, decoded, as the entries a scan yields. */
  scan(timelineId: string, visit: (entry: { timelineId: string; seq: bigint; message: unknown }) => void): void {
    const list = this.timelines.get(timelineId) ?? [];
    for (let i = 0; i < list.length; i++) visit({ timelineId, seq: BigInt(i + 1), message: JSON.parse(list[i]!) as unknown });
  }
}

interface Sizes {
  reps: number;
  warmups: number;
  /** Messages per repetition of the one-timeline append. */
  oneTimeline: number;
  batch: number;
  /** Messages per timeline per call, and calls per timeline, in the 10,000-timeline append. */
  manyBatch: number;
  manyRounds: number;
  timelines: number;
  /** Items per appendBatch call in the fan-out-shaped append. */
  fanoutBatch: number;
  scanEntries: number;
  memoryMessages: number;
}

const FULL: Sizes = {
  reps: 5,
  warmups: 1,
  oneTimeline: 200_000,
  batch: 1000,
  manyBatch: 10,
  manyRounds: 2,
  timelines: 10_000,
  fanoutBatch: 1000,
  scanEntries: 100_000,
  memoryMessages: 1_000_000,
};

const QUICK: Sizes = {
  ...FULL,
  reps: 3,
  oneTimeline: 50_000,
  manyRounds: 1,
  scanEntries: 20_000,
  memoryMessages: 200_000,
};

const APPEND_RATE_TARGET = 1_000_000;
const TIME_RATIO_TARGET = 3;
const BYTES_RATIO_TARGET = 2;

async function newStore(): Promise<TimelineStore<ChatMessage>> {
  const store = new TimelineStore<ChatMessage>({ backend: new MemoryBackend(), table: 'bench' });
  await store.init();
  return store;
}

function appendRows(label: string, count: number, result: Comparison, rateTarget: boolean): ResultRow[] {
  const rate = (count / median(result.subjectMs)) * 1000;
  const baseRate = (count / median(result.baselineMs)) * 1000;
  const ratio = median(result.ratios);
  const reps = result.ratios.length;
  return [
    {
      metric: `${label}: library`,
      value: Math.round(rate),
      unit: 'appends/s',
      ...(rateTarget ? { target: `≥ ${APPEND_RATE_TARGET.toLocaleString('en-US')}`, met: rate >= APPEND_RATE_TARGET } : {}),
      detail: `median of ${reps}, range ${rateRange(count, result.subjectMs)}`,
    },
    { metric: `${label}: baseline`, value: Math.round(baseRate), unit: 'appends/s', detail: `median of ${reps}, range ${rateRange(count, result.baselineMs)}` },
    {
      metric: `${label}: library time ÷ baseline time`,
      value: ratio,
      unit: '×',
      target: `≤ ${TIME_RATIO_TARGET}`,
      met: ratio <= TIME_RATIO_TARGET,
      detail: `median of ${reps} same-run ratios, range ${Math.min(...result.ratios).toFixed(2)}–${Math.max(...result.ratios).toFixed(2)}`,
    },
  ];
}

/** The memory suite: the in-memory backend against a raw baseline, in time and in bytes. */
export async function runMemoryBench(context: SuiteContext): Promise<SuiteResult> {
  const sizes = context.quick ? QUICK : FULL;
  const rows: ResultRow[] = [];
  const pool = Array.from({ length: 20_000 }, (_, i) => chatMessage(i));
  const meanJson = pool.reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)), 0) / pool.length;
  const slice = (start: number, count: number): ChatMessage[] => {
    const out: ChatMessage[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = pool[(start + i) % pool.length]!;
    return out;
  };

  // 1. appendMany into one timeline, 1,000 messages per call.
  context.progress(`append, 1 timeline: ${sizes.oneTimeline.toLocaleString('en-US')} messages × ${sizes.warmups + sizes.reps} rounds`);
  const oneBatches = Array.from({ length: sizes.oneTimeline / sizes.batch }, (_, b) => slice(b * sizes.batch, sizes.batch));
  const one = await compare(context, {
    warmups: sizes.warmups,
    reps: sizes.reps,
    subject: {
      setup: async () => (await newStore()).timeline('tl'),
      run: async (tl: Timeline<ChatMessage>) => {
        for (const batch of oneBatches) keepAlive(await tl.appendMany(batch));
      },
    },
    baseline: {
      setup: () => new RawBaseline(),
      run: (base: RawBaseline) => {
        for (const batch of oneBatches) keepAlive(base.appendMany('tl', batch));
      },
    },
  });
  rows.push(...appendRows(`appendMany, 1 timeline, ${sizes.batch.toLocaleString('en-US')}/call`, sizes.oneTimeline, one, true));

  // 2. appendMany round-robin over 10,000 timelines, 10 messages per call.
  const manyCount = sizes.timelines * sizes.manyBatch * sizes.manyRounds;
  context.progress(`append, ${sizes.timelines.toLocaleString('en-US')} timelines: ${manyCount.toLocaleString('en-US')} messages`);
  const ids = Array.from({ length: sizes.timelines }, (_, i) => `user:${i}`);
  const manyBatches = Array.from({ length: sizes.timelines * sizes.manyRounds }, (_, b) => slice(b * sizes.manyBatch, sizes.manyBatch));
  const many = await compare(context, {
    warmups: sizes.warmups,
    reps: sizes.reps,
    subject: {
      setup: async () => {
        const store = await newStore();
        return ids.map((id) => store.timeline(id));
      },
      run: async (timelines: Timeline<ChatMessage>[]) => {
        for (let b = 0; b < manyBatches.length; b++) keepAlive(await timelines[b % timelines.length]!.appendMany(manyBatches[b]!));
      },
    },
    baseline: {
      setup: () => new RawBaseline(),
      run: (base: RawBaseline) => {
        for (let b = 0; b < manyBatches.length; b++) keepAlive(base.appendMany(ids[b % ids.length]!, manyBatches[b]!));
      },
    },
  });
  rows.push(...appendRows(`appendMany, ${sizes.timelines.toLocaleString('en-US')} timelines, ${sizes.manyBatch}/call`, manyCount, many, true));

  // 3. appendBatch, each item to another timeline (the shape of a write fan-out).
  const fanCount = sizes.oneTimeline;
  context.progress(`appendBatch over ${sizes.timelines.toLocaleString('en-US')} timelines: ${fanCount.toLocaleString('en-US')} items`);
  const fanBatches = Array.from({ length: fanCount / sizes.fanoutBatch }, (_, b) =>
    slice(b * sizes.fanoutBatch, sizes.fanoutBatch).map((message, i) => ({ timelineId: ids[(b * sizes.fanoutBatch + i) % ids.length]!, message })),
  );
  const fan = await compare(context, {
    warmups: sizes.warmups,
    reps: sizes.reps,
    subject: {
      setup: () => newStore(),
      run: async (store: TimelineStore<ChatMessage>) => {
        for (const batch of fanBatches) keepAlive(await store.appendBatch(batch));
      },
    },
    baseline: {
      setup: () => new RawBaseline(),
      run: (base: RawBaseline) => {
        for (const batch of fanBatches) keepAlive(base.appendEach(batch));
      },
    },
  });
  rows.push(...appendRows(`appendBatch, ${sizes.timelines.toLocaleString('en-US')} timelines, ${sizes.fanoutBatch.toLocaleString('en-US')}/call`, fanCount, fan, false));

  // 4. Scan a 100k-entry timeline to the end.
  context.progress(`scan: ${sizes.scanEntries.toLocaleString('en-US')} entries`);
  const scanStore = await newStore();
  const scanTl = scanStore.timeline('scan');
  const scanBase = new RawBaseline();
  for (let start = 0; start < sizes.scanEntries; start += sizes.batch) {
    const batch = slice(start, Math.min(sizes.batch, sizes.scanEntries - start));
    await scanTl.appendMany(batch);
    scanBase.appendMany('scan', batch);
  }
  const scan = await compare(context, {
    warmups: sizes.warmups,
    reps: sizes.reps,
    subject: {
      setup: () => scanTl,
      run: async (tl: Timeline<ChatMessage>) => {
        let count = 0;
        for await (const entry of tl.scan()) {
          keepAlive(entry);
          count++;
        }
        if (count !== sizes.scanEntries) throw new Error(`scan returned ${count} entries`);
      },
    },
    baseline: {
      setup: () => scanBase,
      run: (base: RawBaseline) => base.scan('scan', keepAlive),
    },
  });
  const scanRate = (sizes.scanEntries / median(scan.subjectMs)) * 1000;
  rows.push(
    { metric: 'scan, 1 timeline: library', value: Math.round(scanRate), unit: 'entries/s', detail: `median of ${sizes.reps}, range ${rateRange(sizes.scanEntries, scan.subjectMs)}` },
    {
      metric: 'scan, 1 timeline: baseline',
      value: Math.round((sizes.scanEntries / median(scan.baselineMs)) * 1000),
      unit: 'entries/s',
      detail: `median of ${sizes.reps}, range ${rateRange(sizes.scanEntries, scan.baselineMs)}`,
    },
    { metric: 'scan: library time ÷ baseline time', value: median(scan.ratios), unit: '×', detail: `median of ${sizes.reps} same-run ratios (no target)` },
  );

  // 5. Bytes per message retained, one timeline and 10,000 timelines.
  const n = sizes.memoryMessages;
  const generated = (start: number, count: number): ChatMessage[] => Array.from({ length: count }, (_, i) => chatMessage(start + i));
  const perTimeline = n / sizes.timelines;
  const layouts = [
    { label: '1 timeline', timelines: 1, batch: sizes.batch },
    { label: `${sizes.timelines.toLocaleString('en-US')} timelines`, timelines: sizes.timelines, batch: perTimeline },
  ];
  for (const layout of layouts) {
    context.progress(`bytes per message, ${layout.label}: ${n.toLocaleString('en-US')} messages`);
    const libraryBytes = await retainedBytes(context, async () => {
      const store = await newStore();
      const timelines = Array.from({ length: layout.timelines }, (_, i) => store.timeline(`user:${i}`));
      for (let start = 0, call = 0; start < n; start += layout.batch, call++) await timelines[call % layout.timelines]!.appendMany(generated(start, layout.batch));
      return store;
    });
    const baselineBytes = await retainedBytes(context, async () => {
      const base = new RawBaseline();
      for (let start = 0, call = 0; start < n; start += layout.batch, call++) base.appendMany(`user:${call % layout.timelines}`, generated(start, layout.batch));
      return base;
    });
    const ratio = libraryBytes / baselineBytes;
    rows.push(
      { metric: `bytes per message, ${layout.label}: library`, value: libraryBytes / n, unit: 'bytes/msg', detail: `heap + external delta after full GC, ${formatCompact(n)} messages` },
      { metric: `bytes per message, ${layout.label}: baseline`, value: baselineBytes / n, unit: 'bytes/msg', detail: `same method, same messages` },
      { metric: `bytes per message, ${layout.label}: library ÷ baseline`, value: ratio, unit: '×', target: `≤ ${BYTES_RATIO_TARGET}`, met: ratio <= BYTES_RATIO_TARGET },
    );
  }
  // For reference: what one Uint8Array per message costs (how the backend stored payloads before).
  context.progress(`bytes per message, reference: one Uint8Array per message`);
  const encoder = new TextEncoder();
  const arrayBytes = await retainedBytes(context, async () => {
    const list: Uint8Array[] = [];
    for (let start = 0; start < n; start += sizes.batch) for (const m of generated(start, sizes.batch)) list.push(encoder.encode(JSON.stringify(m)));
    return list;
  });
  rows.push({
    metric: 'bytes per message, reference: an array of one Uint8Array per message',
    value: arrayBytes / n,
    unit: 'bytes/msg',
    detail: 'JSON → TextEncoder, no seqs, no timestamps (no target)',
  });

  const notes = [
    `Message: a ${Math.round(meanJson)}-byte JSON chat message on average (\`chatMessage(i)\` in bench/memory.ts); ${sizes.reps} timed repetitions after ${sizes.warmups} warm-up, library and baseline back to back in alternating order, each from a fresh store; no GC is forced before or during a timed run (the byte counts below are taken after full GCs, outside any timed run).`,
    'Baseline: `JSON.stringify` per message (flattened), stored as a string in a `Map<timelineId, string[]>`, seq = BigInt(position + 1) returned per message; its scan yields `{ timelineId, seq, message: JSON.parse(...) }` per entry.',
  ];
  return { rows, notes };
}
