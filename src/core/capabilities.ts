import type { BackendCapabilities, TimelineBackend } from './backend.js';
import { describeValue } from './describe.js';
import { ValidationError } from './errors.js';

/** A backend's capabilities with every default filled in: what the core reads. */
export type ResolvedCapabilities = Readonly<Required<BackendCapabilities>>;

/**
 * Capabilities a backend gets for every field it does not declare. Conservative where a wrong
 * guess would lose data or order (`orderedBatches: false`), generous elsewhere.
 */
export const DEFAULT_CAPABILITIES: ResolvedCapabilities = Object.freeze({
  name: 'custom',
  maxBatchRows: 100,
  maxBatchBytes: 4 * 1024 * 1024,
  maxMessageBytes: 2 * 1024 * 1024,
  maxScanPageRows: 1000,
  ttlGranularitySeconds: 0,
  // Unordered is the safe assumption: appendMany then sends one row per request to keep order.
  orderedBatches: false,
  rowOverheadBytes: 0,
  minTtlSeconds: 1,
  maxTtlSeconds: 2 ** 31 - 1,
  // An identifier: TableStore's rule, and safe to place unquoted in SQL for backends that do.
  tableNamePattern: /^[A-Za-z_][A-Za-z0-9_]{0,254}$/,
});

// Backends may return a new capabilities object when they change (the TableStore backend turns
// `orderedBatches` off at run time), so resolution is cached per declared object, not per backend.
const resolved = new WeakMap<object, ResolvedCapabilities>();

/** The capabilities of `backend` with defaults filled in for every field it leaves out. */
export function resolveCapabilities(backend: TimelineBackend): ResolvedCapabilities {
  const declared = backend.capabilities;
  if (declared === undefined || declared === null || typeof declared !== 'object') return DEFAULT_CAPABILITIES;
  let result = resolved.get(declared);
  if (result === undefined) {
    const merged: Record<string, unknown> = { ...DEFAULT_CAPABILITIES };
    for (const [key, value] of Object.entries(declared)) if (value !== undefined) merged[key] = value;
    result = Object.freeze(merged) as unknown as ResolvedCapabilities;
    resolved.set(declared, result);
  }
  return result;
}

const POSITIVE = ['maxBatchRows', 'maxBatchBytes', 'maxMessageBytes', 'maxScanPageRows'] as const;
const NON_NEGATIVE = ['ttlGranularitySeconds', 'rowOverheadBytes'] as const;

/**
 * Checks a backend's declared capabilities once, when a store is built, so that a wrong
 * declaration is a `ValidationError` naming the field instead of odd behaviour later.
 * @throws {ValidationError} naming `${parameter}.<field>`.
 */
export function checkCapabilities(capabilities: ResolvedCapabilities, parameter: string): void {
  const fail = (field: string, expected: string): never => {
    const value: unknown = (capabilities as unknown as Record<string, unknown>)[field];
    throw new ValidationError(`${parameter}.${field}`, `Expected \`${parameter}.${field}\` to be ${expected}, got ${describeValue(value)}`);
  };
  const isInteger = (value: unknown, min: number): boolean => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
  if (typeof capabilities.name !== 'string' || capabilities.name.length === 0) fail('name', 'a non-empty string');
  for (const field of POSITIVE) if (!isInteger(capabilities[field], 1)) fail(field, 'an integer from 1 and up');
  for (const field of NON_NEGATIVE) if (!isInteger(capabilities[field], 0)) fail(field, 'an integer from 0 and up');
  if (typeof capabilities.orderedBatches !== 'boolean') fail('orderedBatches', 'a boolean');
  if (!isInteger(capabilities.minTtlSeconds, 1)) fail('minTtlSeconds', 'an integer from 1 and up');
  if (!isInteger(capabilities.maxTtlSeconds, capabilities.minTtlSeconds)) fail('maxTtlSeconds', 'an integer of at least `minTtlSeconds`');
  if (!(capabilities.tableNamePattern instanceof RegExp)) fail('tableNamePattern', 'a RegExp');
}
