import { execFileSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { paypalSignedMessage } from '../../functions/payments/adapters/paypal-webhook';

/**
 * FAKE PayPal webhook sender for tests: a locally generated RSA key and self-signed
 * certificate (openssl), served at /v1/notifications/certs/CERT-fake like PayPal's cert URL,
 * and `sign()` producing the PayPal-Transmission-* headers for a body. Not PayPal.
 */
export interface PayPalFake {
  url: string;
  certUrl: string;
  sign(body: string, webhookId: string, opts?: { time?: Date; transmissionId?: string }): Record<string, string>;
  close(): Promise<void>;
}

export async function startPayPalFake(): Promise<PayPalFake> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paypal-fake-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=paypal-fake.local'], { stdio: 'ignore' });
  const key = fs.readFileSync(keyFile, 'utf8');
  const cert = fs.readFileSync(certFile, 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/notifications/certs/CERT-fake') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(cert);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"name":"RESOURCE_NOT_FOUND"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const certUrl = `${url}/v1/notifications/certs/CERT-fake`;
  return {
    url,
    certUrl,
    sign(body, webhookId, opts = {}) {
      const transmissionId = opts.transmissionId ?? randomUUID();
      const transmissionTime = (opts.time ?? new Date()).toISOString();
      const sig = createSign('RSA-SHA256').update(paypalSignedMessage(transmissionId, transmissionTime, webhookId, Buffer.from(body))).sign(key, 'base64');
      return {
        'paypal-transmission-id': transmissionId,
        'paypal-transmission-time': transmissionTime,
        'paypal-transmission-sig': sig,
        'paypal-cert-url': certUrl,
        'paypal-auth-algo': 'SHA256withRSA',
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
