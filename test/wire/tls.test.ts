// The transports over TLS, as a real instance's https endpoint is reached: a TLS proxy in front of
// the emulator with a self-signed certificate for localhost and 127.0.0.1, and the backend in a
// child process (a CA can be added to Node's trust store only at start-up, NODE_EXTRA_CA_CERTS).
// Checks that both transports verify the certificate against the host name (by name and by IP),
// keep their connections alive across requests, and fail, not hang, on an untrusted certificate.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForNode, REPO_ROOT } from '../support/bundle.js';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulator-process.js';

const FIXTURES = path.join(__dirname, 'fixtures');
const CERT = path.join(FIXTURES, 'localhost-cert.pem');

interface Report {
  readonly ok: boolean;
  readonly seq?: string;
  readonly appended?: number;
  readonly got?: string;
  readonly scanned?: number;
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
}

let emu: EmulatorProcess;
let proxy: tls.Server;
let proxyPort = 0;
/** TLS connections the proxy accepted (handshakes completed). */
let accepted = 0;

beforeAll(async () => {
  emu = await startEmulatorProcess({ seed: 443 });
  const target = new URL(emu.endpoint);
  proxy = tls.createServer({ key: readFileSync(path.join(FIXTURES, 'localhost-key.pem')), cert: readFileSync(CERT) }, (client) => {
    accepted++;
    const upstream = net.connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  // A failed handshake (the untrusted case) is expected: not an error of the test.
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as net.AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (proxy === undefined ? resolve() : proxy.close(() => resolve())));
  await emu?.close();
});

/** Runs the child on `transport` against `endpoint`; `trust` adds the test certificate to its trust store. */
function runChild(transport: 'wire' | 'sdk', endpoint: string, trust: boolean, table: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const args = { endpoint, instanceName: emu.instanceName, accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret, transport, table };
    const env: NodeJS.ProcessEnv = { ...process.env, DEBUG: '' };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, [bundleForNode(path.join(FIXTURES, 'tls-client.ts')), JSON.stringify(args)], {
      cwd: REPO_ROOT,
      env: trust ? { ...env, NODE_EXTRA_CA_CERTS: CERT } : env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      const line = stdout.split('\n')[0];
      if (!line) reject(new Error(`the child printed nothing (exit ${code ?? signal}): ${stderr}`));
      else resolve(JSON.parse(line) as Report);
    });
  });
}

describe('TLS endpoints', { timeout: 90_000 }, () => {
  for (const transport of ['wire', 'sdk'] as const) {
    for (const host of ['localhost', '127.0.0.1']) {
      it(`${transport} transport: writes and reads through https://${host} with the certificate verified, on kept-alive connections`, async () => {
        const before = accepted;
        const report = await runChild(transport, `https://${host}:${proxyPort}`, true, `tls_${transport}_${host === 'localhost' ? 'name' : 'ip'}`);
        expect(report).toEqual({ ok: true, seq: expect.stringMatching(/^\d+$/), appended: 50, got: 'first', scanned: 10 });
        // init (DescribeTable, CreateTable, …), a PutRow, a BatchWriteRow, a GetRow and a GetRange
        // in sequence: kept-alive connections mean far fewer handshakes than requests.
        const handshakes = accepted - before;
        expect(handshakes).toBeGreaterThanOrEqual(1);
        expect(handshakes).toBeLessThanOrEqual(3);
      });
    }
    it(`${transport} transport: an untrusted certificate fails with a BackendError naming it, not a hang`, async () => {
      const report = await runChild(transport, `https://localhost:${proxyPort}`, false, `tls_${transport}_untrusted`);
      expect(report.ok).toBe(false);
      expect(report.name).toBe('BackendError');
      // Reported at once as a certificate problem of the endpoint, not retried for the whole budget.
      expect(report.message).toMatch(/the TLS certificate of https:\/\/localhost:\d+ was refused \(self[- ]signed certificate\)/);
      expect(report.message).toMatch(/NODE_EXTRA_CA_CERTS/);
      expect(report.message).not.toMatch(/gave up after/);
    });
  }
});
