/**
 * The clock of a contract suite: it stands still unless the suite moves it, and it tells the
 * backends that keep their own clock (e.g. a service emulator in another process) by how much.
 *
 * @packageDocumentation
 */
import { ValidationError } from '../core/errors.js';

/** The clock a suite owns; `now` and `onClockAdvance` are handed to backends in the context. */
export interface SuiteClock {
  /** The clock in milliseconds. */
  readonly now: () => number;
  /** Registers a listener told of every step; returns the function that removes it. */
  readonly onClockAdvance: (listener: (ms: number) => void | Promise<void>) => () => void;
  /** Moves the clock forward by `ms` and resolves once every listener has caught up. */
  advance(ms: number): Promise<void>;
}

/** A suite clock standing at `startMs`. */
export function createSuiteClock(startMs: number): SuiteClock {
  let clock = startMs;
  const listeners = new Set<(ms: number) => void | Promise<void>>();
  return {
    now: () => clock,
    onClockAdvance: (listener) => {
      // Refused here, where the factory's mistake is, not mid-way through a TTL test.
      if (typeof listener !== 'function') {
        throw new ValidationError('listener', `Expected the \`onClockAdvance\` listener to be a function (ms) => void | Promise<void>, got ${listener === null ? 'null' : typeof listener}`);
      }
      // One entry per registration: a function registered twice is told twice, removed once each.
      const entry = (ms: number): void | Promise<void> => listener(ms);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    advance: async (ms) => {
      clock += ms;
      // In turn, in registration order: the suite goes on only once every backend's clock moved.
      for (const listener of [...listeners]) await listener(ms);
    },
  };
}
