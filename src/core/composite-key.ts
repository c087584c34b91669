/**
 * An injective string key for a tuple of strings: each part is prefixed with its length, so
 * `["a\0b", "c"]` and `["a", "b\0c"]` (or any other split of the same characters) never collide,
 * as they do when parts are joined with a separator. Use it for every cache or map key made of
 * several ids.
 *
 * @example
 * ```ts
 * compositeKey('conversation', 'message'); // '12:conversation7:message'
 * ```
 */
export function compositeKey(...parts: readonly string[]): string {
  let key = '';
  for (const part of parts) key += `${part.length}:${part}`;
  return key;
}
