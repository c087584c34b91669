import { describe, expect, it } from 'vitest';
import { BackendError, ValidationError } from '../../src/core/errors.js';
import { createRetryStrategy } from '../../src/backends/tablestore/index.js';

const error = new BackendError('busy', { backendCode: 'OTSServerBusy', retryable: true });
const context = (attempt: number, elapsedMs = 0) => ({ attempt, elapsedMs, error, operation: 'append' });

describe('createRetryStrategy', () => {
  it('doubles from 10 ms to a 320 ms cap by default, jittered within the upper half', () => {
    const low = createRetryStrategy({ random: () => 0 });
    const high = createRetryStrategy({ random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((a) => low(context(a)))).toEqual([5, 10, 20, 40, 80, 160, 160, 160]);
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((a) => high(context(a)))).toEqual([10, 20, 40, 80, 160, 320, 320, 320]);
  });

  it('gives up (null) once the next pause would pass the 10 s budget', () => {
    const strategy = createRetryStrategy({ random: () => 0.999999 });
    expect(strategy(context(20, 9_600))).toBe(320);
    expect(strategy(context(20, 9_700))).toBeNull();
    expect(createRetryStrategy({ budgetMs: 0 })(context(1))).toBeNull();
  });

  it('takes its own budget, base and cap', () => {
    const strategy = createRetryStrategy({ budgetMs: 1000, baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999999 });
    expect([1, 2, 3].map((a) => strategy(context(a)))).toEqual([100, 200, 250]);
    expect(strategy(context(3, 800))).toBeNull();
  });

  it('validates its options', () => {
    expect(() => createRetryStrategy({ budgetMs: -1 })).toThrow(ValidationError);
    expect(() => createRetryStrategy({ baseDelayMs: Number.NaN })).toThrow(/options\.baseDelayMs/);
  });
});
