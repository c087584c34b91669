import { defineConfig } from 'tsup';

// One entry per subpath export. Each is built as ESM and CJS with its own declarations, and
// `tablestore` stays external so that only the `./tablestore` entry ever loads the SDK.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'tablestore/index': 'src/backends/tablestore/index.ts',
    'emulator/index': 'src/emulator/index.ts',
    'emulator/cli': 'src/emulator/cli.ts',
  },
  format: ['esm', 'cjs'],
  // `@internal` members (used across the library's own modules) stay out of the public typings.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  external: ['tablestore'],
});
