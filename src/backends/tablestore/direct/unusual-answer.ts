/**
 * The signal of an answer the direct decoders do not read themselves (a value type, layout or
 * malformation the backend never meets from the service). The caller then decodes the same bytes
 * with the SDK-shaped decoder and converts its result as the SDK transport does, so such an
 * answer gets exactly the result, or the error, it got before the direct decoders existed.
 *
 * @packageDocumentation
 */

/** See the module comment. Never reaches the backend's callers. */
export class UnusualAnswer extends Error {
  override readonly name = 'UnusualAnswer';
}

/** Throws an {@link UnusualAnswer} saying what was met. */
export function unusual(what: string): never {
  throw new UnusualAnswer(what);
}
