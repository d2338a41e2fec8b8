import type { DeployConfig } from './config';

/**
 * The Vault login settings of one service's Lambdas (functions/shared/config.ts reads them).
 * Locally: the service's dev token from .local/secrets.json. On AWS: the aws auth method with
 * the Lambda's IAM role and the Vault role named after the service; never a static token.
 */
export function vaultAuthEnvironment(config: DeployConfig, service: string): Record<string, string> {
  if (config.vaultAuth === 'aws-iam') {
    return {
      VAULT_AUTH: 'aws-iam',
      VAULT_AWS_ROLE: service,
      ...(config.vaultAwsMount ? { VAULT_AWS_MOUNT: config.vaultAwsMount } : {}),
      ...(config.vaultIamServerId ? { VAULT_AWS_IAM_SERVER_ID: config.vaultIamServerId } : {}),
      ...(config.vaultAwsStsEndpoint ? { VAULT_AWS_STS_ENDPOINT: config.vaultAwsStsEndpoint } : {}),
    };
  }
  // VAULT_AUTH defaults to token: leave it out so the local template stays as it was.
  const token = config.vaultTokens[service];
  return token ? { VAULT_TOKEN: token } : {};
}
