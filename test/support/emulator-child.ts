// The entry of an emulator child process (see emulator-process.ts): starts the emulator with the
// JSON options of argv[2], prints its connection settings as one JSON line, and stops when told
// (SIGTERM) or when its parent goes away (stdin ends), so that no emulator outlives its test.
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';

/** What the parent sends: JSON options, the two that JSON cannot carry in their own form. */
type ChildOptions = Omit<EmulatorOptions, 'clock' | 'autoIncrementStart'> & { clockStartMs?: number; autoIncrementStart?: string };

async function main(): Promise<void> {
  const { clockStartMs, autoIncrementStart, ...options } = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
  const emu = await startEmulator({
    ...options,
    port: 0,
    // A clock standing still at the parent's instant; the control endpoint's advances move it.
    ...(clockStartMs === undefined ? {} : { clock: () => clockStartMs }),
    ...(autoIncrementStart === undefined ? {} : { autoIncrementStart: BigInt(autoIncrementStart) }),
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ endpoint: emu.endpoint, instanceName: emu.instanceName, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`emulator child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
