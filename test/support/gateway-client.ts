import http from 'node:http';
import { endpoints } from './endpoints';

/**
 * A raw HTTP client for the public API's gateway contracts (test/e2e/gateway.test.ts and the
 * bursts in test/load): keep-alive sockets shared by a test file, every header visible.
 */
const api = endpoints().apiBaseUrl;

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies of every shape and assert on them
  json: () => any;
}

export interface GatewayClient {
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<Res>;
  /** POST /api/demo/idempotent-echo, with an Idempotency-Key when given. */
  echo(body: unknown, key?: string): Promise<Res>;
  /** The effect counter of the echo demo. */
  counter(id: string): Promise<number>;
  close(): void;
}

// The agent keeps the client's own socket use sane (the emulator starts one Lambda worker per
// concurrent request it cannot serve warm).
export function gatewayClient(maxSockets = Number(process.env.GATEWAY_E2E_SOCKETS ?? 48)): GatewayClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const request: GatewayClient['request'] = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const url = new URL(api + path);
      const req = http.request(
        url,
        { method, agent, headers: { ...(opts.body ? { 'content-length': Buffer.byteLength(opts.body).toString() } : {}), ...(opts.headers ?? {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (opts.body) req.write(opts.body);
      req.end();
    });
  const echo: GatewayClient['echo'] = (body, key) =>
    request('POST', '/api/demo/idempotent-echo', {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    });
  const counter = async (id: string) => (await request('GET', `/api/demo/idempotent-echo/${id}`)).json().value as number;
  return { request, echo, counter, close: () => agent.destroy() };
}
