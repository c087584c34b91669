// Opaque, tamper-evident sync cursors. Not exported from the package: callers only ever see the
// string. See docs/architecture.md ("Cursors") for the format and its guarantees.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError, ValidationError } from '../core/errors.js';
import type { Seq } from '../core/types.js';
import { MAX_SEQ } from '../core/validate.js';
import { describe } from './internal.js';

/** A secret that signs sync cursors: a string (its UTF-8 bytes) or raw bytes, at least 16 bytes. */
export type CursorSecret = string | Uint8Array;

/** Smallest accepted cursor secret, in bytes. */
export const MIN_CURSOR_SECRET_BYTES = 16;

const VERSION = 1;
const MAC_BYTES = 16;
const HEADER_BYTES = 18; // version, kind, issuedAt (8), inbox position (8)
const GROUP_BYTES = 16; // id digest (8), position (8)
// A cursor is a small string kept by a device; anything this long is not one of ours.
const MAX_CURSOR_CHARS = 1024 * 1024;
const DOMAIN = 'tablestore-timeline/cursor';
const utf8 = new TextEncoder();

/** Which API issued a cursor; a cursor is only accepted by the API that issued it. */
export const CursorKind = { sync: 1, messenger: 2 } as const;
export type CursorKind = (typeof CursorKind)[keyof typeof CursorKind];
const KIND_NAMES: Record<number, string> = { 1: 'SyncTimeline.sync', 2: 'Messenger.sync' };

/** What a cursor says, once verified. Positions are the last seq delivered; undefined: none yet. */
export interface CursorState {
  /** When the cursor's guarantee starts (ms since the epoch); see `SyncTimeline.sync`. */
  readonly issuedAt: number;
  /** Last inbox seq delivered. */
  readonly inbox: Seq | undefined;
  /** Messenger only: last seq delivered per large group, keyed by {@link groupDigest}. */
  readonly groups: ReadonlyMap<string, Seq | undefined>;
}

/** A compact, fixed-size stand-in for a conversation id inside a cursor (first 8 bytes of SHA-256). */
export function groupDigest(conversationId: string): string {
  return createHash('sha256').update(conversationId, 'utf8').digest('hex').slice(0, 16);
}

function toKey(secret: unknown, parameter: string): Buffer {
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw new ValidationError(parameter, `Expected \`${parameter}\` to be a string or a Uint8Array, got ${describe(secret)}`);
  if (bytes.length < MIN_CURSOR_SECRET_BYTES) {
    throw new ValidationError(parameter, `Expected \`${parameter}\` to be at least ${MIN_CURSOR_SECRET_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * Signs and verifies cursors. With several secrets, the first signs and every one verifies, so a
 * secret can be rotated without invalidating the cursors devices hold.
 */
export class CursorKeyring {
  /** True when no secret was configured and a random per-instance key signs cursors. */
  readonly ephemeral: boolean;
  readonly #keys: readonly Buffer[];

  constructor(secret: unknown, parameter: string) {
    if (secret === undefined) {
      this.ephemeral = true;
      this.#keys = [randomBytes(32)];
      return;
    }
    this.ephemeral = false;
    if (Array.isArray(secret)) {
      if (secret.length === 0) throw new ValidationError(parameter, `Expected \`${parameter}\` to hold at least one secret`);
      this.#keys = secret.map((s, i) => toKey(s, `${parameter}[${i}]`));
    } else {
      this.#keys = [toKey(secret, parameter)];
    }
  }

  /** Encodes and signs a cursor bound to `scope` (the receiver, the tables). */
  seal(kind: CursorKind, scope: readonly string[], state: CursorState): string {
    const groups = [...state.groups];
    const payload = Buffer.alloc(HEADER_BYTES + (kind === CursorKind.messenger ? 4 + groups.length * GROUP_BYTES : 0));
    payload.writeUInt8(VERSION, 0);
    payload.writeUInt8(kind, 1);
    payload.writeBigUInt64BE(BigInt(state.issuedAt), 2);
    payload.writeBigUInt64BE(position(state.inbox), 10);
    if (kind === CursorKind.messenger) {
      payload.writeUInt32BE(groups.length, HEADER_BYTES);
      groups.forEach(([digest, seq], i) => {
        const offset = HEADER_BYTES + 4 + i * GROUP_BYTES;
        payload.write(digest, offset, 8, 'hex');
        payload.writeBigUInt64BE(position(seq), offset + 8);
      });
    }
    const mac = this.#mac(this.#keys[0]!, kind, scope, payload);
    return Buffer.concat([payload, mac]).toString('base64url');
  }

  /**
   * Verifies and decodes a cursor.
   * @throws {ValidationError} when `cursor` is not a string.
   * @throws {InvalidCursorError} when it is malformed, tampered with, issued by another API, or
   *   bound to another receiver, table or secret.
   */
  open(kind: CursorKind, scope: readonly string[], cursor: unknown, parameter: string, subject: string): CursorState {
    if (typeof cursor !== 'string') {
      throw new ValidationError(parameter, `Expected \`${parameter}\` to be a cursor string returned by ${KIND_NAMES[kind]} or undefined, got ${describe(cursor)}`);
    }
    const invalid = (why: string): InvalidCursorError =>
      new InvalidCursorError(`\`${parameter}\` is not a valid cursor for ${subject}: ${why}`, { operation: 'sync' });
    if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
      throw invalid('it is not a cursor string returned by sync (expected base64url text)');
    }
    const bytes = Buffer.from(cursor, 'base64url');
    if (bytes.length < HEADER_BYTES + MAC_BYTES) throw invalid('it is truncated');
    // Base64url leaves spare bits in the last character, which the decoder ignores: without this
    // check one cursor would have several spellings that all verify.
    if (bytes.toString('base64url') !== cursor) throw invalid('it is not in canonical base64url (it was modified)');
    if (bytes[0] !== VERSION) throw invalid(`unsupported cursor version ${bytes[0]}`);
    const issuedBy = bytes[1]!;
    if (issuedBy !== kind) {
      throw invalid(KIND_NAMES[issuedBy] === undefined ? 'it is not a cursor string returned by sync' : `it was issued by ${KIND_NAMES[issuedBy]}; pass it back to that method`);
    }
    const payload = bytes.subarray(0, bytes.length - MAC_BYTES);
    const mac = bytes.subarray(bytes.length - MAC_BYTES);
    if (!this.#keys.some((key) => timingSafeEqual(this.#mac(key, kind, scope, payload), mac))) {
      throw invalid(
        'its signature does not match. It was issued for another receiver or table, signed with another cursor secret, or modified' +
          (this.ephemeral
            ? '. No `cursorSecret` is configured, so cursors are signed with a random per-instance key and are valid only in the SyncTimeline instance that issued them (not after a restart or in another process); configure `cursorSecret` to share them'
            : ''),
      );
    }
    const issuedAt = Number(payload.readBigUInt64BE(2));
    const inbox = seqOf(payload.readBigUInt64BE(10));
    const groups = new Map<string, Seq | undefined>();
    if (kind === CursorKind.messenger) {
      if (payload.length < HEADER_BYTES + 4) throw invalid('it is truncated');
      const count = payload.readUInt32BE(HEADER_BYTES);
      if (payload.length !== HEADER_BYTES + 4 + count * GROUP_BYTES) throw invalid('its length does not match its content');
      for (let i = 0; i < count; i++) {
        const offset = HEADER_BYTES + 4 + i * GROUP_BYTES;
        groups.set(payload.toString('hex', offset, offset + 8), seqOf(payload.readBigUInt64BE(offset + 8)));
      }
    } else if (payload.length !== HEADER_BYTES) {
      throw invalid('its length does not match its content');
    }
    if (!Number.isSafeInteger(issuedAt) || [inbox, ...groups.values()].some((s) => s !== undefined && s > MAX_SEQ)) {
      throw invalid('it holds out-of-range values');
    }
    return { issuedAt, inbox, groups };
  }

  #mac(key: Buffer, kind: CursorKind, scope: readonly string[], payload: Uint8Array): Buffer {
    const hmac = createHmac('sha256', key);
    // Length-prefixed fields, so that no two different scopes serialise to the same bytes.
    for (const field of [DOMAIN, String(kind), ...scope]) {
      const bytes = utf8.encode(field);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      hmac.update(length).update(bytes);
    }
    return hmac.update(payload).digest().subarray(0, MAC_BYTES);
  }
}

// A position is stored as lastSeq + 1 so that 0 can mean "nothing delivered yet".
function position(seq: Seq | undefined): bigint {
  return seq === undefined ? 0n : seq + 1n;
}

function seqOf(stored: bigint): Seq | undefined {
  return stored === 0n ? undefined : stored - 1n;
}
