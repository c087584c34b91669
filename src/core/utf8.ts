// UTF-8 and UTF-16 facts about strings, measured in one place.

// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// ES2024's String.prototype.isWellFormed (native since Node 20), typed here because the library
// targets ES2022 typings.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** UTF-8 byte length of a string. */
export function utf8Length(value: string): number {
  // ASCII (every write id, most ids) is counted in JS, which costs less than a native call for
  // short strings; otherwise Buffer.byteLength counts without encoding (a lone surrogate counts
  // as the 3 bytes of U+FFFD, as encoding it would write).
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return Buffer.byteLength(value, 'utf8');
  return value.length;
}

/**
 * True when `value` is well-formed UTF-16 (no lone surrogate), i.e. it survives a UTF-8 round trip.
 * An ill-formed id would be stored by TableStore as U+FFFD and land in another timeline.
 */
export function isWellFormed(value: string): boolean {
  return nativeIsWellFormed === undefined ? !LONE_SURROGATE.test(value) : nativeIsWellFormed.call(value);
}
