/**
 * The SDK's own retry rules (lib/retry/*), applied to wire-path failures when `sdkMaxRetries` is
 * above 0. The rules are the SDK's functions themselves, called from the loaded SDK, so that the
 * classification is unchanged by construction: errors retried for every API, errors retried only
 * for repeatable (read) APIs, and the delays.
 *
 * @packageDocumentation
 */

/** The retry parts of the SDK namespace. */
export interface SdkRetryRules {
  readonly RetryUtil: {
    shouldRetryNoMatterWhichApi(error: unknown): boolean;
    isRepeatableApi(apiName: string): boolean | undefined;
    shouldRetryWhenApiRepeatable(retryTimes: number, error: unknown, apiName: string): boolean;
  };
  readonly DefaultRetryPolicy: { getRetryDelay(retryTimes: number, error: unknown): number };
}

/**
 * Whether the SDK would retry `error` of `apiName` (`putRow`) after `retryTimes` retries, with its
 * maximum set to `maxRetries` (what `DefaultRetryPolicy.shouldRetry` decides, minus its
 * process-wide maximum: here each client keeps its own).
 */
export function sdkShouldRetry(rules: SdkRetryRules, maxRetries: number, retryTimes: number, error: unknown, apiName: string): boolean {
  if (retryTimes >= maxRetries) return false;
  if (rules.RetryUtil.shouldRetryNoMatterWhichApi(error)) return true;
  return rules.RetryUtil.isRepeatableApi(apiName) === true && rules.RetryUtil.shouldRetryWhenApiRepeatable(retryTimes, error, apiName);
}

/** The SDK's pause before retry number `retryTimes + 1`, in milliseconds. */
export function sdkRetryDelay(rules: SdkRetryRules, retryTimes: number, error: unknown): number {
  return rules.DefaultRetryPolicy.getRetryDelay(retryTimes, error);
}
