/**
 * The rule for configurable column names, shared by timeline and record tables.
 *
 * @packageDocumentation
 */
import { ValidationError } from '../../core/errors.js';

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/**
 * Checks resolved column names: each an ASCII identifier (the SDK writes column-name lengths as
 * UTF-16 code units, not bytes, so only ASCII is safe), all distinct. `extra` adds a rule of the
 * table kind, called once per name after the common checks.
 *
 * @param option - The option holding the names, e.g. `'columns'`, for error messages.
 * @throws {ValidationError} naming the offending option, e.g. `options.columns.seq`.
 */
export function checkColumnNames(resolved: Readonly<Record<string, unknown>>, option: string, extra?: (key: string, name: string, parameter: string) => void): void {
  const seen = new Map<string, string>();
  for (const [key, name] of Object.entries(resolved)) {
    const parameter = `options.${option}.${key}`;
    if (typeof name !== 'string' || !COLUMN_NAME.test(name)) {
      throw new ValidationError(parameter, `Expected \`${parameter}\` to be 1 to 255 ASCII letters, digits or underscores, not starting with a digit, got ${JSON.stringify(name)}`);
    }
    const clash = seen.get(name);
    if (clash !== undefined) throw new ValidationError(parameter, `\`${parameter}\` and \`${clash}\` must differ, both are ${JSON.stringify(name)}`);
    extra?.(key, name, parameter);
    seen.set(name, parameter);
  }
}
