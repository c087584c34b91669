// UTF-8 and UTF-16 facts about strings, measured in one place.

const utf8 = new TextEncoder();
// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// ES2024's String.prototype.isWellFormed (native since Node 20), typed here because the library
// targets ES2022 typings.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** UTF-8 byte length of a string. */
export function utf8Length(value: string): number {
  // Fast path: ASCII strings are the common case for ids.
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(value) ? value.length : utf8.encode(value).length;
}

/**
 * True when `value` is well-formed UTF-16 (no lone surrogate), i.e. it survives a UTF-8 round trip.
 * An ill-formed id would be stored by TableStore as U+FFFD and land in another timeline.
 */
export function isWellFormed(value: string): boolean {
  return nativeIsWellFormed === undefined ? !LONE_SURROGATE.test(value) : nativeIsWellFormed.call(value);
}
