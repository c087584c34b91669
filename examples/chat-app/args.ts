// Command-line flags of the chat server (`npm run chat -- --help`).

/** Where the chat keeps its messages. */
export type BackendName = 'memory' | 'emulator' | 'tablestore';

/** The parsed flags. */
export interface ChatArgs {
  readonly backend: BackendName;
  readonly port: number;
  readonly host: string;
  /** With `--backend emulator`: keep the emulator's data (and the cursor secret) here across restarts. */
  readonly dataDir: string | undefined;
}

/** The help text, printed by `--help` and after a wrong flag. */
export const USAGE = `usage: npm run chat [-- options]

  --backend memory       in-memory backend (default): everything is lost on exit
  --backend emulator     the TableStore backend, official SDK over HTTP, against an in-process emulator
  --backend tablestore   a real TableStore instance, from TABLESTORE_ENDPOINT, TABLESTORE_INSTANCE,
                         TABLESTORE_ACCESS_KEY_ID, TABLESTORE_ACCESS_KEY_SECRET and CHAT_CURSOR_SECRET
  --data-dir DIR         with --backend emulator: persist to DIR, so that a restart loses nothing
  --port N               port to listen on (default 8080; 0 picks a free one)
  --host H               interface to listen on (default 127.0.0.1)
  --help                 this text`;

/** Parses `argv`; throws an Error whose message says what was wrong (the caller prints the usage). */
export function parseArgs(argv: readonly string[]): ChatArgs | 'help' {
  let backend: BackendName = 'memory';
  let port = 8080;
  let host = '127.0.0.1';
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--backend': {
        const v = value();
        if (v !== 'memory' && v !== 'emulator' && v !== 'tablestore') throw new Error(`--backend must be memory, emulator or tablestore, got ${JSON.stringify(v)}`);
        backend = v;
        break;
      }
      case '--port': {
        const v = value();
        port = Number(v);
        if (!/^\d{1,5}$/.test(v) || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${JSON.stringify(v)}`);
        break;
      }
      case '--host':
        host = value();
        break;
      case '--data-dir':
        dataDir = value();
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (dataDir !== undefined && backend !== 'emulator') throw new Error('--data-dir needs --backend emulator (the memory backend keeps nothing; a real instance keeps everything)');
  return { backend, port, host, dataDir };
}
