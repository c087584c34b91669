import { TimelineError } from '../../core/errors.js';
import type { TableStoreSdk } from './sdk-types.js';

/** Loads a module by name, like `import(id)`; what {@link loadTableStoreSdk} loads the SDK with. */
export type ModuleImporter = (id: string) => Promise<unknown>;

// A dynamic import works unchanged in both builds: the ESM one keeps `import()`, and the CommonJS
// one runs it through Node's loader, which shares `require`'s cache (so the SDK's identity-compared
// constants such as `INF_MIN` are the same objects as in a client the application created). The
// name is not a literal so that neither TypeScript (the SDK has no types) nor the bundler inspect it.
const SDK_MODULE = 'tablestore';
const defaultImporter: ModuleImporter = (id) => import(id);

let cached: Promise<TableStoreSdk> | undefined;

const INSTALL_HINT = 'run `npm install tablestore` (the official TableStore SDK, version ^5.6.5, an optional peer dependency of tablestore-timeline)';

/**
 * Loads the optional peer dependency `tablestore` (the official SDK), once per process. Only the
 * `tablestore-timeline/tablestore` entry calls it, and only when a backend is first used, so
 * importing any entry never loads the SDK by itself.
 *
 * @param importer - How to load it; for tests. Default: Node's `import()`, resolved from this package.
 * @throws {TimelineError} with code `MISSING_DEPENDENCY` (asynchronously) when `tablestore` is not installed or is not the SDK.
 * @example
 * ```ts
 * const TableStore = await loadTableStoreSdk();
 * const client = new TableStore.Client({ endpoint, instancename, accessKeyId, accessKeySecret });
 * ```
 */
export function loadTableStoreSdk(importer?: ModuleImporter): Promise<TableStoreSdk> {
  if (importer !== undefined) return load(importer);
  cached ??= load(defaultImporter);
  // A failed load is not cached: installing the SDK then retrying works without a restart.
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

async function load(importer: ModuleImporter): Promise<TableStoreSdk> {
  let loaded: unknown;
  try {
    loaded = await importer(SDK_MODULE);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing =
      code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package) ['"]?tablestore\b/.test(String((error as Error)?.message));
    throw new TimelineError(
      'MISSING_DEPENDENCY',
      missing
        ? `The TableStore backend needs the \`tablestore\` package, which is not installed: ${INSTALL_HINT}`
        : `The \`tablestore\` package failed to load (${(error as Error)?.message ?? String(error)}); reinstall it: ${INSTALL_HINT}`,
      { cause: error, operation: 'loadSdk' },
    );
  }
  // Through import(), a CommonJS module's exports arrive as `default`.
  const namespace = loaded as { default?: unknown } | null;
  const sdk = (namespace !== null && typeof namespace === 'object' && namespace.default !== undefined ? namespace.default : namespace) as Partial<TableStoreSdk> | null;
  if (sdk === null || typeof sdk !== 'object' || typeof sdk.Client !== 'function' || sdk.Long === undefined || sdk.PK_AUTO_INCR === undefined) {
    throw new TimelineError('MISSING_DEPENDENCY', `The module \`tablestore\` is not the official TableStore SDK (it has no \`Client\`); ${INSTALL_HINT}`, {
      operation: 'loadSdk',
    });
  }
  return sdk as TableStoreSdk;
}
