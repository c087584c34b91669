// The CI-bounded soak: the same run as `npm run soak` (scripts/soak.ts), with 2,000 messages in two
// epochs of fresh tables instead of 100,000.
import { describe, expect, it } from 'vitest';
import { runSoak } from './soak-run.js';

describe('soak (CI-bounded)', () => {
  // A hang bound, not a speed test: the run takes about 30 s, longer on a loaded machine.
  it('2,000 messages with faults on: nothing lost, nothing duplicated, in order, heap bounded, no warnings', { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(`${warning.name}: ${warning.message}`);
    };
    process.on('warning', onWarning);
    let summary;
    try {
      summary = await runSoak({ messages: 2000, epochMessages: 1000, seed: 20_260_201, heapBoundMb: 512, log: (line) => lines.push(line) });
    } finally {
      process.off('warning', onWarning);
    }
    console.log(lines.join('\n'));
    expect(summary.problems).toEqual([]);
    expect(summary).toMatchObject({ sent: 2000, duplicates: 0, lost: 0, outOfOrder: 0 });
    expect(summary.delivered).toBeGreaterThan(10_000);
    expect(summary.faulted).toBeGreaterThan(500);
    expect(summary.retried).toBeGreaterThan(100);
    expect(summary.maxHeapMb).toBeLessThanOrEqual(512);
    expect(summary.retainedHeapMb).toHaveLength(2);
    // Progress per epoch, then the summary line.
    expect(lines.filter((l) => l.startsWith('[soak] epoch'))).toHaveLength(2);
    expect(lines[lines.length - 1]).toMatch(/^soak: sent=2000 delivered=\d+ retried=\d+ duplicates=0 lost=0 /);
    // Many operations waiting to retry at once must not look like a leak (MaxListenersExceededWarning).
    expect(warnings).toEqual([]);
  });
});
