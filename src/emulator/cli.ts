#!/usr/bin/env node
/**
 * `tablestore-timeline-emulator`: runs the local TableStore emulator until killed.
 *
 * @example
 * ```sh
 * npx tablestore-timeline-emulator --port 8800 --data-dir ./.tablestore
 * ```
 *
 * @packageDocumentation
 */
import { parseArgs, USAGE, UsageError } from './cli-args.js';
import { startEmulator, type EmulatorOptions } from './emulator.js';

async function main(): Promise<void> {
  let opts: EmulatorOptions | 'help';
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tablestore-timeline-emulator: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const emu = await startEmulator(opts);
  process.stdout.write(
    [
      `TableStore emulator listening on ${emu.endpoint}`,
      `  instancename:    ${emu.instanceName}`,
      ...(emu.instanceNames.length > 1 || emu.instanceNames[0] === '*' ? [`  instances:       ${emu.instanceNames.join(', ')} (each with its own tables)`] : []),
      `  accessKeyId:     ${emu.accessKeyId}`,
      `  accessKeySecret: ${emu.accessKeySecret}`,
      opts.dataDir !== undefined ? `  data dir:        ${opts.dataDir}` : '  data:            in memory',
      opts.controlEndpoint === false ? '  control:         disabled' : `  control:         ${emu.endpoint}/__emulator/stats`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`received ${signal}, shutting down\n`);
    emu.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`error while closing: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`tablestore-timeline-emulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
