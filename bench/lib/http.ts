import http from 'node:http';
import { nowMs } from './stats';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** A keep-alive agent per benchmark phase: `sockets` caps what is in flight, like a real client pool. */
export const agent = (sockets: number) => new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });

/** One HTTP request, timed from write to the last body byte. */
export function request(a: http.Agent, method: string, url: string, opts: { body?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const started = nowMs();
    const headers = { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...(opts.headers ?? {}) };
    const req = http.request(url, { method, agent: a, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: nowMs() - started }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`timeout ${method} ${url}`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/**
 * Runs `total` calls of `fn` with at most `concurrency` in flight (a closed loop: each
 * slot issues its next call when the previous one ends). Returns the results in
 * completion order and the wall time.
 */
export async function closedLoop<T>(total: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<{ results: T[]; wallMs: number }> {
  const results: T[] = [];
  let next = 0;
  const started = nowMs();
  const slot = async () => {
    while (next < total) {
      const i = next++;
      results.push(await fn(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, slot));
  return { results, wallMs: nowMs() - started };
}
