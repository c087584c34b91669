/**
 * Persistence: an append-only log of applied changes in `dataDir`.
 *
 * Each record is framed as `u32 length | u32 crc32(payload) | payload` (little-endian), the
 * payload being JSON with tagged `bigint`s, byte strings and non-finite doubles. A record is
 * written (and by default fsynced) before the response that acknowledges it is sent. On open,
 * records are replayed up to the first torn or corrupt one, and the file is truncated there, so
 * that the reopened state is always a prefix of what was acknowledged. The log is then compacted
 * into a snapshot of the current state (written to a temporary file and renamed over the log).
 *
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import createDebug from 'debug';
import { crc32 } from '../codec/checksum.js';
import type { LogRecord } from './context.js';

const debug = createDebug('tablestore-timeline:emulator');

/** File name of the log inside `dataDir`. */
export const LOG_FILE = 'tablestore-emulator.log';
const LOCK_FILE = 'tablestore-emulator.lock';
const MAGIC = Buffer.from('TSEMULOG1\n', 'latin1');
const FRAME_HEADER = 8;
/** Upper bound of one record, far above any legal request: a larger length means corruption. */
const MAX_RECORD = 64 * 1024 * 1024;

/** Serialises a record to its JSON payload. */
export function encodeRecord(rec: LogRecord): Buffer {
  const json = JSON.stringify(rec, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (typeof raw === 'bigint') return { $n: raw.toString() };
    if (Buffer.isBuffer(raw)) return { $b: raw.toString('base64') };
    if (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0))) return { $d: Object.is(raw, -0) ? '-0' : String(raw) };
    return value;
  });
  return Buffer.from(json, 'utf8');
}

/** Parses a JSON payload back into a record. */
export function decodeRecord(payload: Buffer): LogRecord {
  return JSON.parse(payload.toString('utf8'), (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1) {
        if (typeof o.$n === 'string') return BigInt(o.$n);
        if (typeof o.$b === 'string') return Buffer.from(o.$b, 'base64');
        if (typeof o.$d === 'string') return o.$d === '-0' ? -0 : Number(o.$d);
      }
    }
    return value;
  }) as LogRecord;
}

/** Frames a record: length, CRC-32, payload. */
export function frameRecord(rec: LogRecord): Buffer {
  const payload = encodeRecord(rec);
  const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER);
  return frame;
}

/** Result of reading a log file. */
export interface ReadLogResult {
  /** Records of the valid prefix. */
  readonly records: LogRecord[];
  /** Byte length of the valid prefix (magic included). */
  readonly validLength: number;
  /** Total file length. */
  readonly fileLength: number;
}

/** Reads the valid prefix of a log image: it stops at the first torn or corrupt record. */
export function readLog(buf: Buffer): ReadLogResult {
  const records: LogRecord[] = [];
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { records, validLength: 0, fileLength: buf.length };
  }
  let pos = MAGIC.length;
  while (pos + FRAME_HEADER <= buf.length) {
    const len = buf.readUInt32LE(pos);
    const sum = buf.readUInt32LE(pos + 4);
    if (len > MAX_RECORD || pos + FRAME_HEADER + len > buf.length) break;
    const payload = buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len);
    if (crc32(payload) !== sum) break;
    let rec: LogRecord;
    try {
      rec = decodeRecord(payload);
    } catch {
      break;
    }
    records.push(rec);
    pos += FRAME_HEADER + len;
  }
  return { records, validLength: pos, fileLength: buf.length };
}

/** Options of {@link FileLog.open}. */
export interface FileLogOptions {
  /** fsync after each record (and before the compacted log replaces the old one). */
  readonly fsync: boolean;
  /** Rewrite the log as a snapshot of the replayed state. */
  readonly compact: boolean;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

/** The append-only log file of one data directory. */
export class FileLog {
  readonly #dir: string;
  readonly #fsync: boolean;
  #fd: number | undefined;

  private constructor(dir: string, fd: number, fsync: boolean) {
    this.#dir = dir;
    this.#fd = fd;
    this.#fsync = fsync;
  }

  /**
   * Opens (or creates) the log in `dir`, replays its valid prefix through `apply`, truncates any
   * torn tail, and optionally compacts it using `snapshot` (called after replay).
   *
   * @throws Error when another live process holds the directory.
   */
  static open(dir: string, opts: FileLogOptions, apply: (rec: LogRecord) => void, snapshot: () => Iterable<LogRecord>): FileLog {
    fs.mkdirSync(dir, { recursive: true });
    const lockPath = path.join(dir, LOCK_FILE);
    try {
      const holder = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new Error(`The emulator data directory ${dir} is in use by process ${holder}.`);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    fs.writeFileSync(lockPath, String(process.pid));

    const logPath = path.join(dir, LOG_FILE);
    const image = fs.existsSync(logPath) ? fs.readFileSync(logPath) : Buffer.alloc(0);
    const { records, validLength, fileLength } = readLog(image);
    if (validLength < fileLength) debug('log %s: dropping %d torn or corrupt byte(s) at offset %d', logPath, fileLength - validLength, validLength);
    for (const rec of records) apply(rec);
    debug('log %s: replayed %d record(s)', logPath, records.length);

    if (opts.compact || validLength === 0) {
      const tmp = `${logPath}.compact`;
      const fd = fs.openSync(tmp, 'w');
      try {
        writeAll(fd, MAGIC);
        for (const rec of snapshot()) writeAll(fd, frameRecord(rec));
        if (opts.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, logPath);
      if (opts.fsync) fsyncDir(dir);
    } else if (validLength < fileLength) {
      fs.truncateSync(logPath, validLength);
    }
    const fd = fs.openSync(logPath, 'a');
    return new FileLog(dir, fd, opts.fsync);
  }

  /** Appends one record; returns once it is written (and fsynced when configured). */
  append(rec: LogRecord): void {
    if (this.#fd === undefined) throw new Error('The emulator log is closed.');
    writeAll(this.#fd, frameRecord(rec));
    if (this.#fsync) fs.fsyncSync(this.#fd);
  }

  /** Empties the log (after `reset()`). */
  truncate(): void {
    if (this.#fd === undefined) return;
    fs.ftruncateSync(this.#fd, MAGIC.length);
    fs.fsyncSync(this.#fd);
  }

  /** Flushes and closes the log and releases the directory. */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      fs.fsyncSync(this.#fd);
    } finally {
      fs.closeSync(this.#fd);
      this.#fd = undefined;
      fs.rmSync(path.join(this.#dir, LOCK_FILE), { force: true });
    }
  }
}
