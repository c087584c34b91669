// The wire path's per-request signing against the straightforward construction it replaces:
// HmacSha1 (precomputed pads, one-shot hashes) against `createHmac`, and RequestSigner's one-buffer
// request against the reference construction of test/wire/support.ts + body, over seeded inputs (keys longer than a
// SHA-1 block, non-ASCII secrets and settings, empty and large bodies, a canonical string longer than
// the signer's first buffer). The differential suite (requests.test.ts) checks the same bytes
// against the SDK itself.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha1, RequestSigner } from '../../src/backends/tablestore/wire/signing.js';
// The emulator's seeded generator, so that every run checks the same cases.
import { mulberry32 as seeded } from '../../src/emulator/prng.js';
import { httpHead, referenceRequestHead } from './support.js';

const ALPHABET = ['a', 'Z', '0', '/', '+', '=', ' ', '-', '_', '.', 'é', 'ß', '中', '😀'];
function text(random: () => number, length: number, alphabet = ALPHABET): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)]!;
  return out;
}

describe('HmacSha1', () => {
  it('gives createHmac’s base64 HMAC-SHA1 for 400 seeded keys and messages (keys up to 150 characters, messages up to 3,000)', () => {
    const random = seeded(17);
    for (let i = 0; i < 400; i++) {
      const secret = text(random, Math.floor(random() * 150));
      const hmac = new HmacSha1(secret);
      // The same instance signs several messages: its reused buffers must not carry one into the next.
      for (let j = 0; j < 3; j++) {
        const message = text(random, Math.floor(random() * (j === 1 ? 3000 : 200)));
        expect(hmac.base64(message), `key ${JSON.stringify(secret)}, message of ${message.length}`).toBe(createHmac('sha1', Buffer.from(secret, 'utf8')).update(message, 'utf8').digest('base64'));
      }
    }
  });

  it('handles the edge lengths: an empty key, a key of exactly one block and one byte more, an empty message', () => {
    for (const secret of ['', 'k'.repeat(64), 'k'.repeat(65), 'é'.repeat(32), 'é'.repeat(33)]) {
      for (const message of ['', 'x', 'y'.repeat(1024 - 64), 'z'.repeat(5000)]) {
        expect(new HmacSha1(secret).base64(message)).toBe(createHmac('sha1', Buffer.from(secret, 'utf8')).update(message, 'utf8').digest('base64'));
      }
    }
  });
});

describe('RequestSigner', () => {
  const PATHS = ['/PutRow', '/BatchWriteRow', '/GetRange', '/GetRow', '/DescribeTable'];

  it('lays out the same bytes as the reference construction (support.ts) followed by the body, for 300 seeded requests', () => {
    const random = seeded(4242);
    for (let i = 0; i < 300; i++) {
      const sts = i % 3 === 0 ? undefined : i % 3 === 1 ? '' : text(random, 1 + Math.floor(random() * (i % 10 === 2 ? 3000 : 80)), ['A', 'b', '9', '/', '+', '=']);
      const identity = {
        host: i % 2 === 0 ? '127.0.0.1' : 'my-instance.cn-hangzhou.ots.aliyuncs.com',
        instanceName: text(random, 1 + Math.floor(random() * 20), ['a', 'B', '1', '-', 'é']),
        accessKeyId: text(random, 1 + Math.floor(random() * 30), ['L', 'T', 'A', 'I', '5', 'x']),
        accessKeySecret: text(random, Math.floor(random() * 90)),
        stsToken: sts,
      };
      const signer = new RequestSigner(identity);
      for (let j = 0; j < 3; j++) {
        const path = PATHS[Math.floor(random() * PATHS.length)]!;
        const size = j === 0 ? 0 : Math.floor(random() * (j === 2 ? 20_000 : 500));
        const body = Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
        const time = 1_767_225_600_000 + Math.floor(random() * 1e10);
        const expected = Buffer.concat([referenceRequestHead(identity, path, body, new Date(time)), body]);
        expect(signer.message(path, body, time).equals(expected), `request ${i}.${j} to ${path}`).toBe(true);
      }
    }
  });

  it('refuses a setting Node would refuse in a header with the same error as the reference construction, on every request', () => {
    const signer = new RequestSigner({ host: 'h', instanceName: 'i', accessKeyId: 'a', accessKeySecret: 's', stsToken: 'token\r\nX-Evil: 1' });
    const expected = (() => {
      try {
        httpHead('/PutRow', { 'x-ots-ststoken': 'token\r\nX-Evil: 1' });
      } catch (error) {
        return error as Error & { code: string };
      }
      throw new Error('the reference construction accepted a line break');
    })();
    for (let i = 0; i < 2; i++) {
      expect(() => signer.message('/PutRow', Buffer.from('x'), 0)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_CHAR', message: expected.message }));
    }
    expect(() => new RequestSigner({ host: 'h', instanceName: 'in\nst', accessKeyId: 'a', accessKeySecret: 's' }).message('/GetRow', Buffer.alloc(0), 0)).toThrow(
      expect.objectContaining({ message: 'Invalid character in header content ["x-ots-instancename"]' }),
    );
  });
});
