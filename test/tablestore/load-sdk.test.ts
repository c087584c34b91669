import { describe, expect, it } from 'vitest';
import { TimelineError } from '../../src/core/errors.js';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';

describe('loadTableStoreSdk', () => {
  it('loads the installed SDK once', async () => {
    const sdk = await loadTableStoreSdk();
    expect(typeof sdk.Client).toBe('function');
    expect(await loadTableStoreSdk()).toBe(sdk);
  });

  it('says to `npm install tablestore` when the package is missing (ESM and CommonJS error shapes)', async () => {
    for (const failure of [
      Object.assign(new Error("Cannot find package 'tablestore' imported from /app/dist/tablestore/index.mjs"), { code: 'ERR_MODULE_NOT_FOUND' }),
      Object.assign(new Error("Cannot find module 'tablestore'"), { code: 'MODULE_NOT_FOUND' }),
    ]) {
      const error = await loadTableStoreSdk(() => Promise.reject(failure)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimelineError);
      expect(error).toMatchObject({ code: 'MISSING_DEPENDENCY', cause: failure });
      expect((error as Error).message).toMatch(/npm install tablestore/);
    }
  });

  it('reports a package that fails to load, or is not the SDK', async () => {
    const broken = await loadTableStoreSdk(() => Promise.reject(new SyntaxError('Unexpected token'))).catch((e: unknown) => e);
    expect(broken).toMatchObject({ code: 'MISSING_DEPENDENCY' });
    expect((broken as Error).message).toMatch(/failed to load.*Unexpected token/);
    const impostor = await loadTableStoreSdk(() => Promise.resolve({ default: { hello: 1 } })).catch((e: unknown) => e);
    expect(impostor).toMatchObject({ code: 'MISSING_DEPENDENCY' });
    expect((impostor as Error).message).toMatch(/not the official TableStore SDK/);
  });

  it('accepts the SDK as a CommonJS namespace (default export) or directly', async () => {
    const real = await loadTableStoreSdk();
    expect(await loadTableStoreSdk(() => Promise.resolve({ default: real }))).toBe(real);
    expect(await loadTableStoreSdk(() => Promise.resolve(real))).toBe(real);
  });
});
