import { apiBaseUrl } from './endpoints';
import type { Config } from './config';
import { CORRELATION_HEADER } from './http';
import { retryOnThrottle } from './retry';
import { executeApiSigner, type RequestSigner } from './sigv4';

/**
 * Calls another service's HTTP API with a per-call timeout and the caller's correlation id,
 * signed with SigV4 (the service APIs are IAM-authorized: only granted roles get in).
 * Base URLs come from SERVICE_APIS (API id + stage) through `apiBaseUrl`, so the same code
 * reaches the emulator locally and execute-api on AWS.
 */
export interface ServiceResponse {
  status: number;
  headers: Headers;
  body: string;
}

export interface ServiceClientOptions {
  /**
   * Retries of a 429 answer: a throttled call (API Gateway or the function's reserved
   * concurrency) did not run, so even a POST is safe to send again. Jittered exponential
   * backoff from 100 ms (shared/retry.ts); 0 (the default) hands the 429 to the caller.
   */
  throttleRetries?: number;
  /** No throttle retry starts after this long (ms, default 10 s): the caller has its own deadline. */
  throttleBudgetMs?: number;
  /** Signs each attempt; `null` sends unsigned (tests against plain local servers). */
  signer?: RequestSigner | null;
}

export class ServiceClient {
  constructor(
    readonly service: string,
    readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly options: ServiceClientOptions = {},
  ) {}

  static fromConfig(service: string, cfg: Config, options: ServiceClientOptions = {}): ServiceClient {
    const api = cfg.SERVICE_APIS[service];
    if (!api) throw new Error(`No API configured for service "${service}" (SERVICE_APIS)`);
    return new ServiceClient(service, apiBaseUrl(api, { region: cfg.AWS_REGION, emulatorEndpoint: cfg.AWS_ENDPOINT_URL }), cfg.HTTP_TIMEOUT_MS, {
      signer: executeApiSigner(cfg.AWS_REGION),
      ...options,
    });
  }

  async call(
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; correlationId?: string; timeoutMs?: number } = {},
  ): Promise<ServiceResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
    if (opts.correlationId) headers[CORRELATION_HEADER] = opts.correlationId;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const url = `${this.baseUrl}${path}`;
    const sign = this.options.signer;
    const once = async () => {
      // Signed per attempt: a retry gets a fresh x-amz-date (and fresh credentials if they rotated).
      const res = await fetch(url, {
        method,
        headers: sign ? await sign({ method, url, headers, body }) : headers,
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
      });
      return { status: res.status, headers: res.headers, body: await res.text() };
    };
    const retries = this.options.throttleRetries ?? 0;
    if (retries === 0) return once();
    return retryOnThrottle(once, {
      maxRetries: retries,
      deadline: Date.now() + (this.options.throttleBudgetMs ?? 10_000),
      backoff: { baseDelayMs: 100, maxDelayMs: 3200 },
    });
  }
}
