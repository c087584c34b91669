// The chat's backend: in memory, the in-process TableStore emulator, or a real TableStore instance.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBackend, type TimelineBackend } from '../../src/index.js';
import { TableStoreBackend } from '../../src/backends/tablestore/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { ChatArgs } from './args.js';

/** A started backend, the secret that signs sync cursors, and how to stop both. */
export interface ChatBackend {
  /** What the server prints at start-up. */
  readonly label: string;
  /** The backend of the Messenger's stores. */
  readonly backend: TimelineBackend;
  /** Signs device cursors: it must outlive a restart for devices to keep their cursors. */
  readonly cursorSecret: Uint8Array | string;
  /** Closes the backend (and stops the emulator). */
  close(): Promise<void>;
}

/** Starts the backend the flags ask for. */
export async function startBackend(args: ChatArgs): Promise<ChatBackend> {
  if (args.backend === 'memory') {
    const backend = new MemoryBackend();
    // Nothing survives a restart here, so a fresh secret is right: old cursors are refused and
    // devices start over (the page handles INVALID_CURSOR by resetting).
    return { label: 'in-memory backend', backend, cursorSecret: randomBytes(32), close: () => backend.close() };
  }
  if (args.backend === 'tablestore') {
    // A real instance. These four lines are all that differs from the emulator.
    const backend = new TableStoreBackend({
      endpoint: requireEnv('TABLESTORE_ENDPOINT'), // https://<instance>.<region>.ots.aliyuncs.com
      instanceName: requireEnv('TABLESTORE_INSTANCE'),
      accessKeyId: requireEnv('TABLESTORE_ACCESS_KEY_ID'),
      accessKeySecret: requireEnv('TABLESTORE_ACCESS_KEY_SECRET'),
    });
    // Every server of one deployment must share the secret, or a device's cursor fails on another.
    return { label: 'TableStore instance', backend, cursorSecret: requireEnv('CHAT_CURSOR_SECRET'), close: () => backend.close() };
  }
  const emulatorDir = args.dataDir === undefined ? undefined : join(args.dataDir, 'emulator');
  if (emulatorDir !== undefined) mkdirSync(emulatorDir, { recursive: true });
  const emu = await startEmulator({ port: 0, ...(emulatorDir === undefined ? {} : { dataDir: emulatorDir }) });
  const backend = new TableStoreBackend(emu.connection());
  return {
    label: `TableStore backend, official SDK over HTTP to the emulator at ${emu.endpoint}${args.dataDir === undefined ? ' (in memory)' : ` (data in ${args.dataDir})`}`,
    backend,
    cursorSecret: args.dataDir === undefined ? randomBytes(32) : keptSecret(args.dataDir),
    async close() {
      await backend.close();
      await emu.close();
    },
  };
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`--backend tablestore needs the environment variable ${name}`);
  return value;
}

// The cursor secret lives next to the data, so that a restarted server accepts the cursors it issued.
function keptSecret(dataDir: string): Uint8Array {
  const file = join(dataDir, 'cursor-secret');
  try {
    const kept = readFileSync(file);
    if (kept.length >= 32) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32);
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
