import type { BackendCapabilities, TimelineBackend } from './backend.js';

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
