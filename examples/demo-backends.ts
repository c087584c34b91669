// Backend set-up for examples/demo.ts: the in-memory default, or the TableStore backend (official
// SDK, real HTTP) against an in-process emulator, with per-step request accounting.
import { MemoryBackend, type TimelineBackend } from '../src/index.js';
import { startEmulator } from '../src/emulator/index.js';
import { TableStoreBackend } from '../src/backends/tablestore/index.js';

/** A backend for the demo, with what it costs. */
export interface DemoBackend {
  readonly label: string;
  readonly backend: TimelineBackend;
  /** A snapshot of request counters (empty for the memory backend). */
  requests(): Record<string, number>;
  /** How many requests were made since `before`, per API, or '' when not counted. */
  describeCost(before: Record<string, number>): string;
  close(): Promise<void>;
}

export type BackendName = 'memory' | 'emulator';

const USAGE = `usage: npm run demo [-- --backend memory|emulator]

  --backend memory     the in-memory backend (default)
  --backend emulator   the TableStore backend, through the official SDK, against a local emulator
  --help               this text`;

/** Parses the demo's flags; prints usage and sets a non-zero exit code on a bad flag. */
export function parseDemoArgs(argv: readonly string[]): { backend: BackendName } | undefined {
  let backend: BackendName = 'memory';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      return undefined;
    }
    if (flag === '--backend') {
      const value = inline ?? argv[++i];
      if (value !== 'memory' && value !== 'emulator') return fail(`--backend must be memory or emulator, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
      backend = value;
      continue;
    }
    return fail(`unknown argument ${JSON.stringify(arg)}`);
  }
  return { backend };
}

function fail(message: string): undefined {
  console.error(`demo: ${message}\n\n${USAGE}`);
  process.exitCode = 2;
  return undefined;
}

/** Starts the chosen backend with the demo's clock. */
export async function startDemoBackend(name: BackendName, now: () => number): Promise<DemoBackend> {
  if (name === 'memory') {
    const backend = new MemoryBackend({ now });
    return {
      label: 'in-memory backend',
      backend,
      requests: () => ({}),
      describeCost: () => '',
      close: () => backend.close(),
    };
  }
  const emu = await startEmulator({ port: 0, clock: now });
  const backend = new TableStoreBackend({
    ...emu.connection(),
  });
  const requests = (): Record<string, number> => ({ ...emu.stats().requests });
  return {
    label: `TableStore backend (official SDK over HTTP to the emulator at ${emu.endpoint})`,
    backend,
    requests,
    describeCost(before) {
      const after = requests();
      const parts = Object.entries(after)
        .map(([api, n]) => [api, n - (before[api] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .map(([api, n]) => `${n} ${api}`);
      const total = Object.values(after).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0);
      return `${total} TableStore request${total === 1 ? '' : 's'}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
    },
    async close() {
      await backend.close();
      await emu.close();
    },
  };
}
