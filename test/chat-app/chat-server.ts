// Runs the chat server (examples/chat-app/server.ts) as a child process, so that its event loop,
// the emulator's and the test's are separate, and so that it can be killed like a crashed server.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '..', '..');

/** A running chat server. */
export interface ChatServer {
  /** The page's URL, e.g. http://127.0.0.1:40123/ */
  readonly url: string;
  readonly port: number;
  /** Everything it printed (stdout and stderr), for failure messages. */
  output(): string;
  /** Kills it with `signal` and waits (at most `timeoutMs`) for it to exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Starts the server with `args`; rejects when it exits or prints no URL within `timeoutMs`. */
export async function startChatServer(args: readonly string[], timeoutMs = 90_000): Promise<ChatServer> {
  const child: ChildProcess = spawn(process.execPath, ['--require', 'ts-node/register', 'examples/chat-app/server.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => fail(new Error(`the chat server printed no URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    void exited.then(([code, signal]) => fail(new Error(`the chat server exited (${code ?? signal}) before printing its URL:\n${output}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const match = /^chat app: (http:\/\/\S+)$/.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    output: () => output,
    async stop(signal = 'SIGTERM', stopTimeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
