/**
 * Command-line parsing of `tablestore-timeline-emulator`, kept apart from the executable so that
 * it can be tested without starting a server.
 *
 * @packageDocumentation
 */
import type { EmulatorOptions } from './emulator.js';

/** Usage text printed by `--help` and on a bad flag. */
export const USAGE = `Usage: tablestore-timeline-emulator [options]

A local TableStore emulator that the official tablestore SDK talks to unchanged.

Options:
  --port N                 TCP port (0 picks a free one)            [default: 8800]
  --host H                 interface to listen on                   [default: 127.0.0.1]
  --instance NAME          instance name clients must use; repeat it for
                           several instances (each with its own tables),
                           '*' accepts any name                     [default: emulator]
  --access-key-id ID       access key id clients must sign with     [default: emulator-access-key-id]
  --access-key-secret S    access key secret clients must sign with [default: emulator-access-key-secret]
  --latency-ms N           latency added to every API request       [default: 0]
  --data-dir DIR           persist data in DIR (append-only log)    [default: in memory]
  --no-fsync               with --data-dir: do not fsync each write
  --seed N                 seed of fault and auto-increment PRNGs   [default: 20150101]
  --no-control             disable the /__emulator/* control endpoint
  -h, --help               print this help
`;

/** Thrown for a bad command line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function int(flag: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^-?\d+$/.test(v)) throw new UsageError(`${flag} expects an integer, got ${v === undefined ? 'nothing' : `'${v}'`}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${flag} expects an integer from ${min} to ${max}, got ${n}`);
  return n;
}

function str(flag: string, v: string | undefined): string {
  if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${flag} expects a value`);
  return v;
}

/**
 * Parses the command line (without `node` and the script path).
 *
 * @returns the options, or `'help'`.
 * @throws {@link UsageError} for an unknown flag or a bad value.
 */
export function parseArgs(argv: readonly string[]): EmulatorOptions | 'help' {
  const o: { -readonly [K in keyof EmulatorOptions]: EmulatorOptions[K] } = { port: 8800 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--port':
        o.port = int(flag, value(), 0, 65535);
        break;
      case '--host':
        o.host = str(flag, value());
        break;
      case '--instance': {
        const name = str(flag, value());
        const names = o.instanceName === undefined ? [] : typeof o.instanceName === 'string' ? [o.instanceName] : [...o.instanceName];
        if (names.includes(name)) throw new UsageError(`--instance '${name}' is given twice`);
        names.push(name);
        o.instanceName = names.length === 1 ? name : names;
        break;
      }
      case '--access-key-id':
        o.accessKeyId = str(flag, value());
        break;
      case '--access-key-secret':
        o.accessKeySecret = str(flag, value());
        break;
      case '--latency-ms':
        o.latencyMs = int(flag, value(), 0, 600_000);
        break;
      case '--data-dir':
        o.dataDir = str(flag, value());
        break;
      case '--no-fsync':
        o.fsync = false;
        break;
      case '--seed':
        o.seed = int(flag, value(), 0, 2 ** 32 - 1);
        break;
      case '--no-control':
        o.controlEndpoint = false;
        break;
      default:
        throw new UsageError(`unknown option '${arg}'`);
    }
  }
  return o;
}
