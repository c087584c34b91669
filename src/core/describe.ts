// Total descriptions of arbitrary values for error messages. Building an error message must never
// throw itself: a null-prototype object, a revoked Proxy or a throwing getter would otherwise turn
// a ValidationError into a raw TypeError (found by fuzzing).

/** Short description of a value for error messages (never its whole content). Never throws. */
export function describeValue(value: unknown): string {
  try {
    switch (typeof value) {
      case 'string':
        return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
      case 'bigint':
        return `${value}n`;
      case 'symbol':
        return 'a symbol';
      case 'function':
        return 'a function';
      case 'undefined':
        return 'undefined';
      case 'number':
      case 'boolean':
        return `${typeof value} ${value}`;
    }
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'an array';
    return 'an object';
  } catch {
    // Array.isArray throws only for a revoked Proxy.
    return 'an unreadable object';
  }
}

/** The message of anything thrown, for wrapping it in a TimelineError. Never throws. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) {
      const message: unknown = error.message;
      return typeof message === 'string' ? message : describeValue(message);
    }
    return typeof error === 'string' ? error : describeValue(error);
  } catch {
    return 'an unreadable error';
  }
}
