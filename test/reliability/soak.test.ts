// The CI-bounded soak: the same run as `npm run soak` (scripts/soak.ts), with 1,000 messages in two
// epochs of fresh tables instead of 100,000 (SOAK=1: 2,000). Two epochs are what the leak check
// needs (retained heap after each); more messages per epoch only cost CI time.
//
// Both transports: the wire path (the default) with the full CI run, and the SDK's client with
// half the messages (two epochs of 250; SOAK=1: 500) from another seed, which keeps the leak check
// (two epochs) and every fault kind at about half the time.
import { describe, expect, it } from 'vitest';
import { LONG_RUN } from './harness.js';
import { runSoak } from './soak-run.js';

const MESSAGES = LONG_RUN ? 2000 : 1000;

const RUNS = [
  { transport: 'wire', messages: MESSAGES, seed: 20_260_201 },
  { transport: 'sdk', messages: MESSAGES / 2, seed: 20_260_202 },
] as const;

describe('soak (CI-bounded)', () => {
  // A hang bound, not a speed test: the run takes about 15 s, minutes on a loaded machine.
  it.each(RUNS)('$messages messages with faults on ($transport transport): nothing lost, nothing duplicated, in order, heap bounded, no warnings', { timeout: 300_000 }, async ({ transport, messages: MESSAGES, seed }) => {
    const lines: string[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    let summary;
    try {
      summary = await runSoak({ messages: MESSAGES, epochMessages: MESSAGES / 2, seed, transport, heapBoundMb: 512, log: (line) => lines.push(line) });
    } finally {
      process.off('warning', onWarning);
    }
    console.log(lines.join('\n'));
    expect(summary.problems).toEqual([]);
    expect(summary).toMatchObject({ sent: MESSAGES, duplicates: 0, lost: 0, outOfOrder: 0 });
    // (Measured per message: about 7.2 deliveries, 1.4 faults fired, 0.7 retries; the bounds are lower.)
    expect(summary.delivered).toBeGreaterThan(5 * MESSAGES);
    expect(summary.faulted).toBeGreaterThan(MESSAGES / 4);
    expect(summary.retried).toBeGreaterThan(MESSAGES / 20);
    expect(summary.maxHeapMb).toBeLessThanOrEqual(512);
    expect(summary.retainedHeapMb).toHaveLength(2);
    // Progress per epoch, then the summary line.
    expect(lines.filter((l) => l.startsWith('[soak] epoch'))).toHaveLength(2);
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^soak: sent=${MESSAGES} delivered=\\d+ retried=\\d+ duplicates=0 lost=0 `));
    // Many operations waiting to retry at once must not look like a leak (MaxListenersExceededWarning).
    expect(warnings).toEqual([]);
  });
});
