import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/index.js';
import { createSuiteClock } from '../../src/testing/suite-clock.js';

describe('the contract suite clock', () => {
  it('stands still until advanced, and waits for every listener before the advance resolves', async () => {
    const clock = createSuiteClock(1000);
    const seen: string[] = [];
    let release: (() => void) | undefined;
    clock.onClockAdvance(async (ms) => {
      seen.push(`a+${ms}@${clock.now()}`);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      seen.push('a done');
    });
    clock.onClockAdvance((ms) => {
      seen.push(`b+${ms}`);
    });
    expect(clock.now()).toBe(1000);
    let settled = false;
    const advanced = clock.advance(250).then(() => {
      settled = true;
    });
    // The clock moved at once; the second listener waits for the first, the advance for both.
    expect(clock.now()).toBe(1250);
    await Promise.resolve();
    expect(seen).toEqual(['a+250@1250']);
    expect(settled).toBe(false);
    release!();
    await advanced;
    expect(seen).toEqual(['a+250@1250', 'a done', 'b+250']);
  });

  it('tells a removed listener nothing more, and a listener registered twice twice', async () => {
    const clock = createSuiteClock(0);
    const steps: number[] = [];
    const listener = (ms: number): void => {
      steps.push(ms);
    };
    const stopFirst = clock.onClockAdvance(listener);
    clock.onClockAdvance(listener);
    await clock.advance(5);
    stopFirst();
    stopFirst();
    await clock.advance(7);
    expect(steps).toEqual([5, 5, 7]);
    expect(clock.now()).toBe(12);
  });

  it('rejects the advance when a listener fails (the suite must not go on with clocks apart)', async () => {
    const clock = createSuiteClock(0);
    clock.onClockAdvance(() => Promise.reject(new Error('emulator gone')));
    await expect(clock.advance(1)).rejects.toThrow('emulator gone');
  });
  it('refuses a listener that is not a function when it is registered, naming it', async () => {
    const clock = createSuiteClock(0);
    for (const bad of [undefined, null, 42, 'tick']) {
      expect(() => clock.onClockAdvance(bad as never)).toThrow(ValidationError);
      expect(() => clock.onClockAdvance(bad as never)).toThrow(/`onClockAdvance` listener to be a function/);
    }
    // Nothing half-registered: advancing still works with no listener.
    await clock.advance(5);
    expect(clock.now()).toBe(5);
  });
});
