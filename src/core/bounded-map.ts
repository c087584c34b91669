import { ValidationError } from './errors.js';

/** Options of {@link BoundedMap}. */
export interface BoundedMapOptions {
  /** Most entries kept; setting one more evicts the least recently used. 0 keeps nothing. */
  readonly maxSize: number;
}

/**
 * A `Map` capped in size that evicts its least recently used entry: the one size-capped cache of
 * the library (recent sends, uncertain writes), so that memory stays bounded whatever the input.
 * `get` and `set` both count as a use. Keys compare as in a `Map`; build composite keys with a
 * length-prefixed encoding, never a joined string.
 *
 * @example
 * ```ts
 * const recent = new BoundedMap<string, number>({ maxSize: 2 });
 * recent.set('a', 1); recent.set('b', 2); recent.get('a'); recent.set('c', 3);
 * [...recent.keys()]; // ['a', 'c']: 'b' was the least recently used
 * ```
 */
export class BoundedMap<K, V> {
  /** Most entries kept. */
  readonly maxSize: number;
  readonly #map = new Map<K, V>();

  /** @throws {ValidationError} when `maxSize` is not an integer from 0 and up. */
  constructor(options: BoundedMapOptions) {
    const maxSize: unknown = options?.maxSize;
    if (typeof maxSize !== 'number' || !Number.isSafeInteger(maxSize) || maxSize < 0) {
      throw new ValidationError('options.maxSize', 'Expected `options.maxSize` to be an integer from 0 and up');
    }
    this.maxSize = maxSize;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** The value of `key`, marking it as recently used; undefined when absent. */
  get(key: K): V | undefined {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key)!;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** True when `key` is held (does not count as a use). */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Sets `key`, marking it as recently used, and evicts the least recently used beyond `maxSize`. */
  set(key: K, value: V): this {
    this.#map.delete(key);
    if (this.maxSize === 0) return this;
    this.#map.set(key, value);
    if (this.#map.size > this.maxSize) this.#map.delete(this.#map.keys().next().value as K);
    return this;
  }

  /** Removes `key`; true when it was held. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.#map.keys();
  }
}
