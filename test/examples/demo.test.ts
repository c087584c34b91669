import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDemoArgs } from '../../examples/demo-backends.js';

const root = join(__dirname, '..', '..');

describe('demo flags', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('defaults to the memory backend and accepts both spellings of --backend', () => {
    expect(parseDemoArgs([])).toEqual({ backend: 'memory' });
    expect(parseDemoArgs(['--backend', 'emulator'])).toEqual({ backend: 'emulator' });
    expect(parseDemoArgs(['--backend=memory'])).toEqual({ backend: 'memory' });
  });

  it('prints usage and sets a non-zero exit code for a bad flag or value', () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    for (const argv of [['--bogus'], ['--backend', 'redis'], ['--backend']]) {
      process.exitCode = undefined;
      expect(parseDemoArgs(argv)).toBeUndefined();
      expect(process.exitCode).toBe(2);
    }
    expect(errors.every((e) => e.includes('usage: npm run demo'))).toBe(true);
  });

  it('the demo script itself exits non-zero with usage on a bad flag', () => {
    const result = spawnSync(join(root, 'node_modules', '.bin', 'ts-node'), ['examples/demo.ts', '--nope'], { cwd: root, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown argument "--nope"');
    expect(result.stderr).toContain('usage: npm run demo');
  });
});
