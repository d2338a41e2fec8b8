/**
 * The one place that knows how an API Gateway API (and Lambda's own API) is addressed.
 *
 * On AWS an API is reached at https://{apiId}.execute-api.{region}.amazonaws.com/{stage}.
 * On a LocalStack-compatible emulator (AWS_ENDPOINT_URL set) the same API is served at
 * {endpoint}/_aws/execute-api/{apiId}/{stage}, a path shape both LocalStack and MiniStack
 * accept. HTTP APIs deployed with the `$default` stage have no stage segment on either.
 * (The emulator's `{apiId}.execute-api.localhost` host form needs DNS a laptop may not have.)
 */
export interface ApiAddress {
  apiId: string;
  stage: string;
}

export function apiBaseUrl(api: ApiAddress, opts: { region: string; emulatorEndpoint?: string }): string {
  const stagePath = api.stage === '$default' ? '' : `/${encodeURIComponent(api.stage)}`;
  if (opts.emulatorEndpoint) {
    const base = opts.emulatorEndpoint.replace(/\/+$/, '');
    return `${base}/_aws/execute-api/${api.apiId}${stagePath}`;
  }
  return `https://${api.apiId}.execute-api.${opts.region}.amazonaws.com${stagePath}`;
}

/** Parses an AWS-style execute-api URL (as found in CloudFormation outputs) back into its parts. */
export function parseExecuteApiUrl(url: string): ApiAddress & { region: string } {
  const m = /^https:\/\/([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\/([^/]+))?\/?$/.exec(url);
  if (!m) throw new Error(`Not an execute-api URL: ${url}`);
  return { apiId: m[1], region: m[2], stage: m[3] ?? '$default' };
}

/**
 * Lambda's API (Invoke): the emulator's endpoint when AWS_ENDPOINT_URL is set, else the region's
 * endpoint (what the SDK resolves in the aws partition).
 */
export function lambdaApiBase(opts: { region: string; emulatorEndpoint?: string }): string {
  return opts.emulatorEndpoint ? opts.emulatorEndpoint.replace(/\/+$/, '') : `https://lambda.${opts.region}.amazonaws.com`;
}
