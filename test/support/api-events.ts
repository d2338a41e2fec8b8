/**
 * API Gateway REST (payload 1.0) events for handler unit tests: what the public API hands the BFF
 * and what a service's handler sees, without a deployed stack.
 */
export interface RestEventOptions {
  headers?: Record<string, string>;
  body?: string;
  sourceIp?: string;
}

export const restEvent = (method: string, path: string, opts: RestEventOptions = {}) =>
  ({
    httpMethod: method,
    path,
    headers: opts.headers ?? {},
    body: opts.body ?? null,
    isBase64Encoded: false,
    queryStringParameters: null,
    requestContext: { identity: { sourceIp: opts.sourceIp ?? '127.0.0.1' } },
  }) as never;
