/**
 * Seeded draws that depend on what a request is, not on when it arrives: a probability fault hits
 * a request when a hash of (seed, fault, API, request body, attempt, row) falls below the
 * probability. So two runs with one seed fault the same requests even when concurrent clients
 * send them in another order, and a retry (the same body again) draws afresh because its attempt
 * number differs.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';

/** Most request contents remembered for attempt numbers; the oldest are forgotten first. */
const MAX_REMEMBERED = 65_536;

/** Mixes one 32-bit word into a running hash (murmur3's finaliser steps). */
function mix(h: number, word: number): number {
  let x = Math.imul((h ^ word) >>> 0, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A number in `[0, 1)` determined by the words only. */
export function unitDraw(...words: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) h = mix(h, w >>> 0);
  // One more avalanche so that the last word changes every bit.
  h = mix(h, words.length);
  return h / 4294967296;
}

/** 32 bits of SHA-1 of a string: a stable salt for a fault spec. */
export function stringHash(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

/** What a request is, for draws: its content hash and how many times that content came before. */
export interface RequestIdentity {
  /** 32 bits of SHA-1 of the API name and the body. */
  readonly content: number;
  /**
   * 0 the first time this content is drawn for, 1 for its first repeat (a retry), and so on
   * (the emulator draws only while a probability fault applies to the request).
   */
  readonly attempt: number;
}

/**
 * Numbers the arrivals of each request content. Bounded: after {@link MAX_REMEMBERED} distinct
 * contents the oldest is forgotten (a content that comes back after that many others starts again
 * at attempt 0, which is still the same for every run of the same workload).
 */
export class AttemptCounter {
  readonly #seen = new Map<string, number>();

  /** Identifies one arriving request. */
  identify(api: string, body: Uint8Array | undefined): RequestIdentity {
    const digest = createHash('sha1').update(api).update('\u0000').update(body ?? new Uint8Array(0)).digest();
    const key = digest.toString('base64');
    const attempt = this.#seen.get(key) ?? 0;
    // Re-inserting moves the key to the end: the map is in least-recently-seen order.
    this.#seen.delete(key);
    this.#seen.set(key, attempt + 1);
    if (this.#seen.size > MAX_REMEMBERED) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return { content: digest.readUInt32BE(0), attempt };
  }

  /** Forgets every content. */
  clear(): void {
    this.#seen.clear();
  }
}
