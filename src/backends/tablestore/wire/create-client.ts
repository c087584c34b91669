/**
 * The client a backend creates from its connection settings: the wire path or the SDK's client.
 *
 * @packageDocumentation
 */
import type { ResolvedOptions } from '../options.js';
import type { TableStoreClientLike, TableStoreSdk } from '../sdk-types.js';
import { wireCodec } from './codec.js';
import { WireClient } from './wire-client.js';

/** A client for `options.clientConfig` on `options.transport`, sharing the backend's agent. */
export function createClient(sdk: TableStoreSdk, options: ResolvedOptions): TableStoreClientLike {
  const config = options.clientConfig!;
  if (options.transport === 'sdk') return new sdk.Client(config);
  return new WireClient({
    endpoint: config.endpoint,
    instanceName: config.instancename,
    accessKeyId: config.accessKeyId,
    accessKeySecret: config.accessKeySecret,
    stsToken: config.stsToken,
    timeoutMs: config.httpOptions?.timeout ?? 0,
    codec: wireCodec(sdk),
    retryRules: sdk,
    maxRetries: config.maxRetries ?? 0,
  });
}
