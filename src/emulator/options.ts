/**
 * Validation of {@link startEmulator}'s options, and the instance names they configure.
 *
 * Malformed options are an {@link EmulatorOptionError} (name `'ValidationError'`, code
 * `INVALID_ARGUMENT`) naming `options.<name>`, shaped like the library's `ValidationError` so that
 * callers can handle every rejection alike, while the emulator imports nothing from `core/`.
 *
 * @packageDocumentation
 */
import { EmulatorOptionError } from './option-error.js';
import type { EmulatorOptions } from './emulator.js';

/** The instance names an emulator serves: `names` as configured (maybe with `'*'`), `primary` the one clients get by default. */
export interface Instances {
  readonly names: readonly string[];
  readonly primary: string;
}

/** Reads `options.instanceName` (validated by {@link checkOptions}). */
export function instancesOf(option: string | readonly string[] | undefined, fallback: string): Instances {
  const names = option === undefined ? [fallback] : typeof option === 'string' ? [option] : [...option];
  return { names, primary: names.find((n) => n !== '*') ?? fallback };
}

function checkInstanceNames(v: unknown): void {
  const bad = (): never => {
    throw new EmulatorOptionError('options.instanceName', 'Expected `options.instanceName` to be a non-empty string or a non-empty array of distinct non-empty strings (`\'*\'` accepts any name)');
  };
  if (v === undefined) return;
  if (typeof v === 'string') {
    if (v === '') bad();
    return;
  }
  if (!Array.isArray(v) || v.length === 0 || v.some((n) => typeof n !== 'string' || n === '') || new Set(v).size !== v.length) bad();
}

/**
 * Checks the options object and every option's type and range.
 *
 * @throws {EmulatorOptionError} naming the option.
 */
export function checkOptions(input: unknown): EmulatorOptions {
  if (input === undefined) return {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EmulatorOptionError('options', `Expected \`options\` to be an object or undefined, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  const o = input as EmulatorOptions;
  const int = (v: unknown, name: string, min: number, max: number): void => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) {
      throw new EmulatorOptionError(`options.${name}`, `Expected \`options.${name}\` to be an integer from ${min} to ${max}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
    }
  };
  int(o.port, 'port', 0, 65535);
  int(o.latencyMs, 'latencyMs', 0, 600_000);
  int(o.seed, 'seed', -(2 ** 31), 2 ** 32 - 1);
  checkInstanceNames(o.instanceName);
  for (const k of ['host', 'accessKeyId', 'accessKeySecret', 'dataDir'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new EmulatorOptionError(`options.${k}`, `Expected \`options.${k}\` to be a non-empty string`);
  }
  for (const k of ['fsync', 'compactOnOpen', 'controlEndpoint'] as const) {
    const v = o[k];
    if (v !== undefined && typeof v !== 'boolean') throw new EmulatorOptionError(`options.${k}`, `Expected \`options.${k}\` to be a boolean, got ${typeof v}`);
  }
  if (o.clock !== undefined && typeof o.clock !== 'function') {
    throw new EmulatorOptionError('options.clock', 'Expected `options.clock` to be a function returning milliseconds');
  }
  return o;
}

/** @throws {EmulatorOptionError} unless `v` is a bigint from 1n to 2^62. */
export function checkAutoIncrementStart(v: unknown): void {
  if (typeof v !== 'bigint' || v < 1n || v > 1n << 62n) {
    throw new EmulatorOptionError('options.autoIncrementStart', 'Expected `options.autoIncrementStart` to be a bigint from 1n to 2n ** 62n');
  }
}
