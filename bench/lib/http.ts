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
 * A client that does what a refusal asks: 429 and 503 (and 409 when `retry409`, an
 * Idempotency-Key still in flight) carry Retry-After, so it waits that long (jittered, at most
 * `deadlineMs` in all) and sends the same request again. Answers the final response and how many
 * refusals came before it: the wall time then includes the refusals, as a user would live it.
 */
export async function untilFinal(send: () => Promise<Res>, opts: { retry409?: boolean; deadlineMs?: number } = {}): Promise<Res & { refusals: number }> {
  const deadline = Date.now() + (opts.deadlineMs ?? 30_000);
  for (let refusals = 0; ; refusals++) {
    const res = await send();
    const refused = res.status === 429 || res.status === 503 || (opts.retry409 && res.status === 409);
    if (!refused || Date.now() > deadline) return { ...res, refusals };
    const seconds = Number(res.headers['retry-after']);
    const waitMs = (Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 250) * (0.5 + Math.random() / 2);
    await new Promise((r) => setTimeout(r, waitMs));
  }
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
