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

describe('the demo run', () => {
  it('shows the conversation list with unread badges, then cleared after reading on another device', () => {
    const result = spawnSync(join(root, 'node_modules', '.bin', 'ts-node'), ['examples/demo.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const section = (title: string): string[] => {
      const start = result.stdout.indexOf(`== ${title}`);
      expect(start, `section "${title}"`).toBeGreaterThanOrEqual(0);
      const end = result.stdout.indexOf('\n==', start + 3);
      return result.stdout.slice(start, end < 0 ? undefined : end).split('\n').filter((l) => l.includes('laptop: group:'));
    };
    // Newest activity first: the town-hall post came after the launch chat.
    const before = section('B opens the conversation list');
    expect(before).toHaveLength(2);
    expect(before[0]).toMatch(/group:town-hall .*"All hands at 3pm" \(1 unread\)$/);
    expect(before[1]).toMatch(/group:launch .*"Thanks B, ping me if you need data" \(1 unread\)$/);
    const after = section('B reads both conversations on the phone');
    expect(after).toHaveLength(2);
    expect(after.every((l) => !l.includes('unread'))).toBe(true);
    expect(result.stdout).toContain("laptop's next sync: events [read group:launch, read group:town-hall]");
  }, 150_000);
});
