import { apiBaseUrl } from './endpoints';
import type { Config } from './config';
import { CORRELATION_HEADER } from './http';

/**
 * Calls another service's HTTP API with a per-call timeout and the caller's correlation id.
 * Base URLs come from SERVICE_APIS (API id + stage) through `apiBaseUrl`, so the same code
 * reaches the emulator locally and execute-api on AWS.
 */
export interface ServiceResponse {
  status: number;
  headers: Headers;
  body: string;
}

export class ServiceClient {
  constructor(
    readonly service: string,
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  static fromConfig(service: string, cfg: Config): ServiceClient {
    const api = cfg.SERVICE_APIS[service];
    if (!api) throw new Error(`No API configured for service "${service}" (SERVICE_APIS)`);
    return new ServiceClient(
      service,
      apiBaseUrl(api, { region: cfg.AWS_REGION, emulatorEndpoint: cfg.AWS_ENDPOINT_URL }),
      cfg.HTTP_TIMEOUT_MS,
    );
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
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
    });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }
}
