/**
 * The benchmark harness: the suite interface, timing and memory helpers, and the Markdown that
 * `bench/run.ts` writes into docs/benchmarks.md.
 *
 * A suite is a function `(context: SuiteContext) => Promise<SuiteResult>` exported by its module
 * (`runFanoutBench` in bench/fanout.ts, …); bench/run.ts lists them, one line each, so adding a
 * suite is one line there.
 *
 * Method rules every suite follows (docs/benchmarks.md explains them to readers):
 * - compare against a baseline measured in the same run, and report the ratio, not just a time;
 * - warm up first, repeat, report the median (with the spread in `detail`);
 * - never gate on absolute time alone: a target on a rate is reported, and its ratio to a same-run
 *   baseline says whether a miss is the machine or the code;
 * - measure the way a service runs: no forced GC before or inside a timed run (a full GC
 *   deoptimises hot code, "weak objects" deopts in the SDK); full GCs only around byte counts;
 * - a server the client talks to (the emulator) runs in its own process, so that its work is not
 *   counted as the client's, and client CPU (`process.cpuUsage()`) is reported next to wall time.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';

/** What a suite gets from the runner. */
export interface SuiteContext {
  /** A short smoke run: fewer messages and repetitions. Numbers are not for publishing. */
  readonly quick: boolean;
  /** Whether this run writes results (suites may also regenerate their own artefacts, e.g. charts). */
  readonly write: boolean;
  /** Absolute path of the repository root. */
  readonly root: string;
  /** Prints a progress line (to stderr, prefixed with the suite name and elapsed time). */
  progress(message: string): void;
  /** A full, synchronous garbage collection (available whether or not node ran with --expose-gc). */
  gc(): void;
}

/** One measured (or computed) figure. */
export interface ResultRow {
  /** What was measured, e.g. `appendMany, 1 timeline: library`. */
  readonly metric: string;
  readonly value: number;
  /** Unit of `value`, e.g. `appends/s`, `×`, `bytes/msg`. */
  readonly unit: string;
  /** The target in words, e.g. `≥ 1,000,000`. */
  readonly target?: string;
  /** Whether the target is met; absent when the row has no target. */
  readonly met?: boolean;
  /** How it was measured, e.g. `median of 5 (range 0.95–1.02M)`. */
  readonly detail?: string;
}

/** What a suite returns. */
export interface SuiteResult {
  readonly rows: readonly ResultRow[];
  /** Generated facts shown under the table (the method, the baseline, the sizes used). */
  readonly notes?: readonly string[];
}

/** What a suite module exports: one run of the suite. */
export type SuiteRun = (context: SuiteContext) => Promise<SuiteResult>;

/** One benchmark suite, as bench/run.ts lists it. */
export interface Suite {
  /** Short id used by `--only` and in the docs markers, e.g. `memory`. */
  readonly name: string;
  /** Heading used when the runner has to create a section in docs/benchmarks.md. */
  readonly title: string;
  /** Loads the suite's module (only when the suite is selected) and returns its run function. */
  readonly load: () => SuiteRun;
}

// ---------------------------------------------------------------------------------------------
// Statistics and timing

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Time of one call of `fn`, in milliseconds. */
export async function timeOnce(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A contender in a {@link compare}: `setup` runs untimed before each timed `run`. */
export interface Contender<S> {
  setup(): S | Promise<S>;
  run(state: S): unknown;
}

/** Result of {@link compare}: per-repetition times of both contenders and their ratios. */
export interface Comparison {
  /** Library time of each timed repetition, ms. */
  readonly subjectMs: readonly number[];
  /** Baseline time of each timed repetition, ms. */
  readonly baselineMs: readonly number[];
  /** subject / baseline of each repetition (the two ran back to back). */
  readonly ratios: readonly number[];
}

/**
 * Runs subject and baseline back to back, `warmups` untimed rounds then `reps` timed ones,
 * alternating which goes first so that drift (a neighbour's job starting, heap growth) hits both.
 * Each timed run starts from a fresh `setup()`; no GC is forced (the collector runs when it
 * would in a service, and its time counts).
 */
export async function compare<A, B>(
  context: SuiteContext,
  options: { warmups: number; reps: number; subject: Contender<A>; baseline: Contender<B> },
): Promise<Comparison> {
  const subjectMs: number[] = [];
  const baselineMs: number[] = [];
  const ratios: number[] = [];
  const timed = async <S>(contender: Contender<S>): Promise<number> => {
    const state = await contender.setup();
    return timeOnce(() => contender.run(state));
  };
  for (let round = 0; round < options.warmups + options.reps; round++) {
    let s: number;
    let b: number;
    if (round % 2 === 0) {
      s = await timed(options.subject);
      b = await timed(options.baseline);
    } else {
      b = await timed(options.baseline);
      s = await timed(options.subject);
    }
    if (round >= options.warmups) {
      subjectMs.push(s);
      baselineMs.push(b);
      ratios.push(s / b);
    }
  }
  return { subjectMs, baselineMs, ratios };
}

/** `min–max` of per-repetition rates, for a row's `detail`. */
export function rateRange(count: number, ms: readonly number[]): string {
  const rates = ms.map((m) => (count / m) * 1000);
  return `${formatCompact(Math.min(...rates))}–${formatCompact(Math.max(...rates))}`;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** Heap plus off-heap (ArrayBuffer) bytes in use. */
export function bytesInUse(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/**
 * Bytes retained by what `fill` builds and returns: the difference in heap + external memory,
 * each side measured after full GCs, while the returned value is still referenced.
 */
export async function retainedBytes(context: SuiteContext, fill: () => Promise<unknown>): Promise<number> {
  context.gc();
  context.gc();
  const before = bytesInUse();
  const kept = await fill();
  context.gc();
  context.gc();
  const after = bytesInUse();
  keepAlive(kept);
  return after - before;
}

let sinkValue: unknown;
/** Keeps a value observable so that the optimiser cannot drop the work that produced it. */
export function keepAlive(value: unknown): void {
  sinkValue = value;
  if (sinkValue === keepAlive) throw new Error('unreachable');
}

/** A full synchronous GC: `global.gc` when node ran with --expose-gc, else exposed on demand. */
export function fullGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** 1234567 -> `1.23M`, 12345 -> `12.3k`. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  return formatValue(value);
}

/** A value for a table: integers with thousands separators, others with 3 significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(1);
  return Number(value.toPrecision(3)).toString();
}

/** Rows as a Markdown table. */
export function markdownTable(rows: readonly ResultRow[]): string {
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = ['| metric | value | unit | target | met | how |', '|---|--:|---|---|---|---|'];
  for (const row of rows) {
    const met = row.met === undefined ? '' : row.met ? '✅ met' : '❌ missed';
    lines.push(
      `| ${escape(row.metric)} | ${formatValue(row.value)} | ${escape(row.unit)} | ${escape(row.target ?? '')} | ${met} | ${escape(row.detail ?? '')} |`,
    );
  }
  return lines.join('\n');
}

/** Rows as a fixed-width text table for the terminal. */
export function textTable(rows: readonly ResultRow[]): string {
  const cells = rows.map((row) => [
    row.metric,
    formatValue(row.value),
    row.unit,
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'met' : 'MISSED',
  ]);
  const header = ['metric', 'value', 'unit', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/**
 * Replaces what lies between `<!-- results:NAME:start -->` and `<!-- results:NAME:end -->`
 * (markers kept); when the markers are missing, appends a section with them. Everything outside
 * the markers is left as written.
 */
export function replaceMarked(document: string, name: string, content: string, headingIfMissing: string): string {
  const start = `<!-- results:${name}:start -->`;
  const end = `<!-- results:${name}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from !== -1 && to > from) return `${document.slice(0, from + start.length)}\n${content}\n${document.slice(to)}`;
  const separator = document.length === 0 || document.endsWith('\n\n') ? '' : document.endsWith('\n') ? '\n' : '\n\n';
  return `${document}${separator}## ${headingIfMissing}\n\n${start}\n${content}\n${end}\n`;
}

// ---------------------------------------------------------------------------------------------
// Environment

/** Where and on what a run happened, for results.json and the docs. */
export interface Environment {
  readonly date: string;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  /** 1-minute load average at the start: a busy machine explains noisy numbers. */
  readonly loadAverage: number;
  /** Short commit id, with ` (modified)` when the working tree differs from it; undefined outside git. */
  readonly commit: string | undefined;
}

export function environment(root: string): Environment {
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
    commit: gitCommit(root),
  };
}

function gitCommit(root: string): string | undefined {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = run(['rev-parse', '--short', 'HEAD']);
    const modified = run(['status', '--porcelain', '--untracked-files=no']) !== '';
    return modified ? `${commit} (modified)` : commit;
  } catch {
    return undefined;
  }
}
