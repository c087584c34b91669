/**
 * Held requests: a request a `hold` fault caught waits here, neither applied nor answered, until a
 * test releases it or (with `'until-disconnect'`) its client gives up on the connection. Then the
 * emulator handles it as usual: a write is applied even though nobody reads the answer, which is
 * the ambiguous write of a real service, reproduced by events instead of timers.
 *
 * @packageDocumentation
 */

/** When a held request goes on: on `release()`, or when its client closes the connection. */
export type HoldMode = 'until-released' | 'until-disconnect';

/** The events a hold watches on a connection. */
type ConnectionEvent = 'end' | 'close' | 'error';

/** The part of a server response a hold watches: its `'close'` event and its socket's end. */
export interface ClosableResponse {
  readonly destroyed: boolean;
  readonly socket?: {
    readonly destroyed: boolean;
    once(event: ConnectionEvent, listener: () => void): unknown;
    off(event: ConnectionEvent, listener: () => void): unknown;
  } | null;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

const EVENTS: readonly ConnectionEvent[] = ['end', 'close', 'error'];

interface Waiter {
  readonly atLeast: number;
  readonly resolve: (held: number) => void;
}

/** The requests held now, and the tests waiting for some to be held. */
export class HoldQueue {
  readonly #held = new Set<() => void>();
  #waiters: Waiter[] = [];
  #total = 0;

  /** Requests held now. */
  get size(): number {
    return this.#held.size;
  }

  /** Requests held since the emulator started (released ones included). */
  get total(): number {
    return this.#total;
  }

  /** Holds one request; resolves when it may go on. */
  hold(mode: HoldMode, response: ClosableResponse): Promise<void> {
    return new Promise<void>((resolve) => {
      const socket = mode === 'until-disconnect' ? response.socket : undefined;
      const go = (): void => {
        if (!this.#held.delete(go)) return;
        if (mode === 'until-disconnect') {
          response.off('close', go);
          for (const event of EVENTS) socket?.off(event, go);
        }
        resolve();
      };
      this.#held.add(go);
      this.#total += 1;
      if (mode === 'until-disconnect') {
        if (response.destroyed || socket?.destroyed === true) {
          go();
        } else {
          // The socket's end (the client's FIN) is the earliest sign, emitted as soon as the
          // emulator reads it: before it handles a request that the client sent after giving up
          // (the FIN went out first), so a later tail check finds the held write applied.
          response.once('close', go);
          for (const event of EVENTS) socket?.once(event, go);
        }
      }
      this.#wake();
    });
  }

  /**
   * Lets every held request go on. Resolves with how many there were, once they have been handled:
   * the emulator handles a released request synchronously after its hold resolves, so one turn
   * of the event loop later every released write is applied.
   */
  async release(): Promise<number> {
    const held = [...this.#held];
    for (const go of held) go();
    await new Promise<void>((resolve) => setImmediate(resolve));
    return held.length;
  }

  /**
   * Resolves once at least `atLeast` requests are held at the same time (with the number held),
   * or rejects after `timeoutMs`: a bound, so that a test waiting for a request that never comes
   * fails with a message instead of hanging.
   */
  whenHeld(atLeast: number, timeoutMs: number): Promise<number> {
    if (!Number.isInteger(atLeast) || atLeast < 1) throw new TypeError(`Expected \`atLeast\` to be an integer from 1 and up, got ${String(atLeast)}`);
    if (this.#held.size >= atLeast) return Promise.resolve(this.#held.size);
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        atLeast,
        resolve: (held) => {
          clearTimeout(timer);
          resolve(held);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`Expected ${atLeast} held request(s) within ${timeoutMs} ms, but ${this.#held.size} are held: check the hold fault's \`api\`, and that the client sends such requests`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => this.#held.size >= w.atLeast);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => this.#held.size < w.atLeast);
    for (const w of ready) w.resolve(this.#held.size);
  }
}
