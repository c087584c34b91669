// The long soak: `npm run soak` (= `ts-node scripts/soak.ts`). 100,000 messages through the
// Messenger on the TableStore backend against an emulator in its own process, about 10 % of requests
// faulted (seeded), devices syncing throughout, every message verified; progress lines, then one
// summary line. Exits with 1 if anything was duplicated, lost, reordered, or the heap passed its
// bound. See test/reliability/soak-run.ts.
//
//   npx ts-node scripts/soak.ts [--messages 100000] [--epoch 10000] [--seed 20260101] [--senders 32] [--heap-bound-mb 768]
import { runSoak, type SoakOptions } from '../test/reliability/soak-run.js';

function parse(argv: readonly string[]): SoakOptions {
  const options: Record<string, number> = {};
  const names: Record<string, string> = { '--messages': 'messages', '--epoch': 'epochMessages', '--seed': 'seed', '--senders': 'senders', '--heap-bound-mb': 'heapBoundMb' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]!];
    const value = Number(argv[i + 1]);
    if (name === undefined || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`usage: ts-node scripts/soak.ts [--messages N] [--epoch N] [--seed N] [--senders N] [--heap-bound-mb N] (bad argument: ${argv[i]} ${argv[i + 1] ?? ''})`);
    }
    options[name] = value;
  }
  return options;
}

runSoak(parse(process.argv.slice(2))).then(
  (summary) => {
    const failed = summary.duplicates > 0 || summary.lost > 0 || summary.outOfOrder > 0 || summary.problems.length > 0 || summary.maxHeapMb > summary.heapBoundMb;
    if (failed) {
      process.stderr.write(`soak FAILED: ${summary.problems.join(' | ') || 'see the summary line'}\n`);
      process.exitCode = 1;
    }
  },
  (error: unknown) => {
    process.stderr.write(`soak FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
