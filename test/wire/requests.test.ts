// Differential: every request of the corpus, sent by the official SDK and by the wire path to a
// server that records it, arrives with the same method, path, raw headers (names, values and
// order, including the date-pinned signature) and body bytes.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestCorpus } from './corpus.js';
import { clientPair, pinDate, settle, startRecorder, type ClientPair, type Recorded, type Recorder, type Settings } from './support.js';
import { loadTableStoreSdk } from '../../src/backends/tablestore/load-sdk.js';
import { decodeSdkError } from '../../src/backends/tablestore/errors.js';
import { wireCodec } from '../../src/backends/tablestore/wire/codec.js';
import { WireClient } from '../../src/backends/tablestore/wire/wire-client.js';

let recorder: Recorder;
let unpin: () => void;

beforeAll(async () => {
  recorder = await startRecorder();
  unpin = pinDate(await loadTableStoreSdk());
});

afterAll(async () => {
  unpin();
  await recorder.close();
});

/** Sends `call` through the SDK, then the wire path; returns what the server recorded for each. */
async function both(pair: ClientPair, method: Parameters<typeof settle>[1], params: () => Record<string, unknown>): Promise<[Recorded, Recorded]> {
  recorder.requests.length = 0;
  await settle(pair.sdkClient, method, params());
  await settle(pair.wireClient, method, params());
  expect(recorder.requests).toHaveLength(2);
  return [recorder.requests[0]!, recorder.requests[1]!];
}

const headerMap = (raw: readonly string[]): Record<string, string> => Object.fromEntries(Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i]!.toLowerCase(), raw[2 * i + 1]!]));

describe('wire path requests equal the SDK requests', () => {
  const settings: [string, Omit<Settings, 'endpoint'>][] = [
    ['long-term credentials', {}],
    ['an STS token', { stsToken: 'sts-token/with+odd=chars' }],
    ['settings with leading white space (the SDK trims it)', { instanceName: '  spaced', accessKeyId: '\tkey-id', accessKeySecret: ' secret' }],
  ];
  for (const [label, extra] of settings) {
    describe(`with ${label}`, () => {
      let pair: ClientPair;
      beforeAll(async () => {
        pair = await clientPair({ endpoint: recorder.endpoint, ...extra });
      });
      afterAll(() => pair.close());
      const sdkPromise = loadTableStoreSdk();
      it('for every request of the corpus: same method, path, raw headers in order, and body', async () => {
        const corpus = requestCorpus(await sdkPromise);
        expect(corpus.length).toBeGreaterThanOrEqual(20);
        for (const entry of corpus) {
          const [sdk, wire] = await both(pair, entry.method, entry.params);
          expect({ entry: entry.name, method: wire.method, url: wire.url }).toEqual({ entry: entry.name, method: sdk.method, url: sdk.url });
          expect({ entry: entry.name, headers: wire.rawHeaders }).toEqual({ entry: entry.name, headers: sdk.rawHeaders });
          expect(wire.body.equals(sdk.body), `${entry.name}: bodies differ`).toBe(true);
          expect(wire.body.length, entry.name).toBeGreaterThan(0);
        }
      });
    });
  }

  it('a request the SDK cannot encode (no condition) is refused by both before anything is sent, and classified alike', async () => {
    const pair = await clientPair({ endpoint: recorder.endpoint });
    try {
      recorder.requests.length = 0;
      const params = (): Record<string, unknown> => ({ tableName: 't', primaryKey: [{ id: 'x' }], attributeColumns: [{ a: 1 }] });
      const a = await settle(pair.sdkClient, 'putRow', params());
      const b = await settle(pair.wireClient, 'putRow', params());
      expect(a.error).toBeInstanceOf(Error);
      expect(b.error).toBeInstanceOf(Error);
      expect(decodeSdkError(b.error)).toMatchObject({ code: 'ClientError', kind: decodeSdkError(a.error).kind, notSent: false });
      expect(decodeSdkError(a.error).code).toBe('ClientError');
      expect(recorder.requests).toHaveLength(0);
    } finally {
      pair.close();
    }
  });

  it('signs with the time of the request (not the pinned one) when the clock moves, and the headers still agree apart from the date and signature', async () => {
    const sdk = await loadTableStoreSdk();
    const pair = await clientPair({ endpoint: recorder.endpoint });
    const later = new WireClient({ endpoint: recorder.endpoint, instanceName: 'wire-test', accessKeyId: 'test-access-key-id', accessKeySecret: 'test-access-key-secret', timeoutMs: 10_000, codec: wireCodec(sdk), retryRules: sdk, maxRetries: 0, now: () => Date.UTC(2030, 5, 6) });
    try {
      recorder.requests.length = 0;
      await settle(pair.sdkClient, 'describeTable', { tableName: 't' });
      await settle(later, 'describeTable', { tableName: 't' });
      const [a, b] = recorder.requests.map((r) => headerMap(r.rawHeaders));
      expect(b!['x-ots-date']).toBe('2030-06-06T00:00:00.000Z');
      expect(b!['x-ots-signature']).not.toBe(a!['x-ots-signature']);
      const strip = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'x-ots-date' && k !== 'x-ots-signature'));
      expect(strip(b!)).toEqual(strip(a!));
    } finally {
      later.destroy();
      pair.close();
    }
  });

  it('hands the header block and a 4 MB body to the socket in one write (the SDK streams it in chunks)', async () => {
    const sdk = await loadTableStoreSdk();
    const pair = await clientPair({ endpoint: recorder.endpoint });
    const port = Number(new URL(recorder.endpoint).port);
    // Count the writes client sockets (connecting, or connected to the recorder) hand to their handles: one per write or writev.
    let writes = 0;
    const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', (this: net.Socket, ...a: unknown[]) => void>;
    const originals = { _write: proto._write, _writev: proto._writev };
    for (const name of ['_write', '_writev'] as const) {
      proto[name] = function (this: net.Socket, ...a: unknown[]) {
        if (this.connecting || this.remotePort === port) writes++;
        return originals[name].apply(this, a);
      };
    }
    try {
      const big = requestCorpus(sdk).find((e) => e.name.includes('4 MB'))!;
      recorder.requests.length = 0;
      writes = 0;
      await settle(pair.sdkClient, big.method, big.params());
      const sdkWrites = writes;
      writes = 0;
      await settle(pair.wireClient, big.method, big.params());
      expect(recorder.requests[1]!.body.length).toBeGreaterThan(4_000_000);
      expect(recorder.requests[1]!.body.equals(recorder.requests[0]!.body)).toBe(true);
      expect(writes).toBe(1);
      expect(sdkWrites).toBeGreaterThan(1);
    } finally {
      proto._write = originals._write;
      proto._writev = originals._writev;
      pair.close();
    }
  });
});
