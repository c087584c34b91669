/**
 * The error {@link startEmulator} throws for malformed options.
 *
 * The emulator stands alone (it imports nothing from the library's `core/`), so that it can be
 * bundled and run as its own program. Its option error therefore cannot be the library's
 * `ValidationError`, but it carries the same fields (`name` `'ValidationError'`, `code`
 * `'INVALID_ARGUMENT'`, `parameter`), so a caller that branches on those handles it alike.
 *
 * @packageDocumentation
 */

/**
 * An option passed to {@link startEmulator} was malformed. Nothing was started.
 *
 * Not a subclass of the library's `TimelineError` (the emulator imports nothing from the library),
 * but shaped like its `ValidationError`: branch on `code === 'INVALID_ARGUMENT'` and `parameter`.
 */
export class EmulatorOptionError extends Error {
  /** Always `'INVALID_ARGUMENT'`, as the library's `ValidationError`. */
  readonly code = 'INVALID_ARGUMENT' as const;
  /** Whether repeating the same call may succeed: never, the option must change. */
  readonly retryable = false;
  /** The option that was wrong, as the caller would write it (e.g. `'options.port'`). */
  readonly parameter: string;

  /**
   * @param parameter - The option that was wrong, e.g. `'options.port'`.
   * @param message - What was wrong and what is expected.
   */
  constructor(parameter: string, message: string) {
    super(message);
    // The library's name for this kind of error, so logs and `name` checks read the same.
    this.name = 'ValidationError';
    this.parameter = parameter;
  }
}
