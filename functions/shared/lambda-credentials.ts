import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The AWS credential provider inside every Lambda bundle, in place of the SDK's default chain.
 *
 * Lambda hands a function its execution role's session in the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), on AWS as on the emulator (MiniStack sets the same
 * three per function); the default chain (`@aws-sdk/credential-provider-node`) reads exactly those
 * first. The rest of that chain (shared config files, SSO, `aws login`, credential processes, web
 * identity tokens, container and instance metadata) never answers in a Lambda, but it is ~300 KB of
 * every bundle: the STS, SSO and sign-in clients it builds. So the bundler resolves
 * `@aws-sdk/credential-provider-node` to this module (an esbuild alias in
 * cdk/lib/service-function.ts) for our signers (shared/sigv4.ts, shared/vault.ts) and for every SDK
 * client's default provider alike. Outside a bundle (scripts, tests, the bench) the real chain runs.
 *
 * No expiry: Lambda's environment credentials are valid for the life of the execution environment
 * (the SDK's env provider reads them the same way); AWS_CREDENTIAL_EXPIRATION is honoured when set.
 */
export class LambdaCredentialsMissing extends Error {
  override readonly name = 'LambdaCredentialsMissing';
}

export function lambdaCredentials(env: NodeJS.ProcessEnv = process.env): AwsCredentialIdentity {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new LambdaCredentialsMissing('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: this bundle reads the Lambda environment credentials only');
  }
  const expiration = env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    ...(expiration && !Number.isNaN(expiration.getTime()) ? { expiration } : {}),
  };
}

/** The export the SDK clients and our signers import from `@aws-sdk/credential-provider-node`; the options are the chain's and are not needed. */
export const defaultProvider =
  (_init?: unknown): AwsCredentialIdentityProvider =>
  async () =>
    lambdaCredentials();
