// An emulator in a child process, driven over its control endpoint (/__emulator/...): for tests
// and benchmarks whose outcome depends on timeouts, holds or time, the emulator must not share an
// event loop with the client under test, or the client's own work delays the service's answers
// (and a loaded loop turns an unfaulted request into a timed-out one).
//
// The child runs test/support/emulator-child.ts from the TypeScript source, bundled once per
// process with esbuild (about 100 ms; no `npm run build` needed, and always the current source).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import * as http from 'node:http';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { EmulatorConnection, EmulatorOptions, EmulatorStats, FaultInfo, FaultSpec, SdkClientConfig } from '../../src/emulator/index.js';
import { bundleForNode, REPO_ROOT } from './bundle.js';

/** The fault controller of an emulator process: {@link FaultController}'s methods, over HTTP. */
export interface RemoteFaults {
  /** Adds faults; resolves with their ids. */
  inject(...specs: FaultSpec[]): Promise<string[]>;
  remove(id: string): Promise<boolean>;
  clear(): Promise<void>;
  list(): Promise<FaultInfo[]>;
  /** Lets every held request go on; resolves with how many, once they have been handled. */
  release(): Promise<number>;
  /** Resolves once at least `atLeast` requests are held at once; rejects after `timeoutMs`. */
  whenHeld(atLeast?: number, timeoutMs?: number): Promise<number>;
}

/** An emulator running in a child process. */
export interface EmulatorProcess {
  readonly endpoint: string;
  readonly instanceName: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly pid: number;
  readonly faults: RemoteFaults;
  clientConfig(): SdkClientConfig;
  connection(): EmulatorConnection;
  stats(): Promise<EmulatorStats>;
  reset(): Promise<void>;
  advanceClock(ms: number): Promise<void>;
  /** Stops the child and waits for it to exit. */
  close(): Promise<void>;
}

/** Options of the child's emulator: the JSON-serialisable ones of {@link EmulatorOptions}, and two carried across. */
export interface EmulatorProcessOptions extends Omit<EmulatorOptions, 'clock' | 'autoIncrementStart' | 'port'> {
  /**
   * The child's clock stands still at this instant (ms since the epoch) and moves only by
   * {@link EmulatorProcess.advanceClock}: an injected clock (a contract suite's), carried across
   * the process boundary. Default: wall time.
   */
  readonly clockStartMs?: number;
  /** As {@link EmulatorOptions.autoIncrementStart} (sent to the child as decimal text). */
  readonly autoIncrementStart?: bigint;
}

/** One control request; rejects with the emulator's message on a status other than 200. */
function control<T>(endpoint: string, method: string, route: string, body?: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    // No keep-alive agent: nothing stays open once a test is done with the emulator.
    const req = http.request(`${endpoint}/__emulator/${route}`, { method, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new Error(`emulator control ${method} ${route}: HTTP ${res.statusCode}: ${text}`));
          return;
        }
        resolve(JSON.parse(text) as T);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The fault controller of the emulator at `endpoint` (any emulator serving its control endpoint:
 * a child of {@link startEmulatorProcess}, or the CLI).
 */
export function remoteFaults(endpoint: string): RemoteFaults {
  const call = <T>(method: string, route: string, body?: unknown): Promise<T> => control<T>(endpoint, method, route, body);
  return {
    inject: async (...specs) => (await call<{ ids: string[] }>('POST', 'faults', specs)).ids,
    remove: async (id) => {
      try {
        return (await call<{ ok: boolean }>('DELETE', `faults/${encodeURIComponent(id)}`)).ok;
      } catch {
        return false;
      }
    },
    clear: async () => {
      await call('POST', 'faults/clear');
    },
    list: () => call<FaultInfo[]>('GET', 'faults'),
    release: async () => (await call<{ released: number }>('POST', 'faults/release')).released,
    whenHeld: async (atLeast = 1, timeoutMs = 10_000) => (await call<{ held: number }>('POST', 'faults/held', { atLeast, timeoutMs })).held,
  };
}

/**
 * Starts an emulator in a child process. Resolves once it listens.
 *
 * @example
 * ```ts
 * const emu = await startEmulatorProcess({ seed: 7 });
 * await emu.faults.inject({ api: 'PutRow', hold: 'until-released' });
 * ```
 */
export async function startEmulatorProcess(options: EmulatorProcessOptions = {}): Promise<EmulatorProcess> {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(process.execPath, [bundleForNode(path.join(__dirname, 'emulator-child.ts')), JSON.stringify(options, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))], {
    cwd: REPO_ROOT,
    env: { ...process.env, DEBUG: process.env.EMULATOR_DEBUG ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const info = await new Promise<{ endpoint: string; instanceName: string; accessKeyId: string; accessKeySecret: string }>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer): void => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.stdout.off('data', onData);
      resolve(JSON.parse(out.slice(0, nl)) as never);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the emulator process exited with ${String(code)} before listening: ${stderr}`)));
    child.once('error', reject);
  });
  const { endpoint } = info;
  const call = <T>(method: string, route: string, body?: unknown): Promise<T> => control<T>(endpoint, method, route, body);
  let closing: Promise<void> | undefined;
  return {
    ...info,
    pid: child.pid!,
    faults: remoteFaults(endpoint),
    clientConfig: () => ({ endpoint, instancename: info.instanceName, accessKeyId: info.accessKeyId, secretAccessKey: info.accessKeySecret }),
    connection: () => ({ endpoint, instanceName: info.instanceName, accessKeyId: info.accessKeyId, accessKeySecret: info.accessKeySecret }),
    stats: () => call<EmulatorStats>('GET', 'stats'),
    reset: async () => {
      await call('POST', 'reset');
    },
    advanceClock: async (ms) => {
      await call('POST', 'clock', { advanceMs: ms });
    },
    close: () => {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          // Bounded: a child that does not stop within 10 s is killed outright.
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        child.stdin.destroy();
      })();
      return closing;
    },
  };
}
