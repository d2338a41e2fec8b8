import { App } from 'aws-cdk-lib';
import { loadConfig } from '../../cdk/lib/config';
import { vaultAuthEnvironment } from '../../cdk/lib/vault-auth';

/** Which Vault login each target's Lambdas get: IAM on AWS (never a token), the dev token locally. */
describe('vaultAuthEnvironment', () => {
  const awsApp = (extra: Record<string, string> = {}) =>
    new App({
      context: {
        target: 'aws',
        pgHost: 'db.internal',
        redisUrl: 'redis://cache.internal:6379/0',
        vaultAddr: 'https://vault.internal:8200',
        publicEndpoints: 'true',
        ...extra,
      },
    });

  it('on AWS: aws-iam with the service as Vault role, mount and server id from context, no VAULT_TOKEN', () => {
    const cfg = loadConfig(awsApp({ vaultAwsMount: 'aws-prod', vaultIamServerId: 'vault.internal', vaultAwsStsEndpoint: 'https://sts.eu-west-1.amazonaws.com' }));
    expect(cfg.vaultAuth).toBe('aws-iam');
    expect(vaultAuthEnvironment({ ...cfg, vaultTokens: { payments: 'leaked' } }, 'payments')).toEqual({
      VAULT_AUTH: 'aws-iam',
      VAULT_AWS_ROLE: 'payments',
      VAULT_AWS_MOUNT: 'aws-prod',
      VAULT_AWS_IAM_SERVER_ID: 'vault.internal',
      VAULT_AWS_STS_ENDPOINT: 'https://sts.eu-west-1.amazonaws.com',
    });
    expect(vaultAuthEnvironment(loadConfig(awsApp()), 'orders')).toEqual({ VAULT_AUTH: 'aws-iam', VAULT_AWS_ROLE: 'orders' });
  });

  it('locally: the service token only (VAULT_AUTH defaults to token), as before', () => {
    const cfg = { ...loadConfig(new App({ context: { target: 'local' } })), vaultTokens: { catalog: 'dev-token' } };
    expect(cfg.vaultAuth).toBe('token');
    expect(vaultAuthEnvironment(cfg, 'catalog')).toEqual({ VAULT_TOKEN: 'dev-token' });
    expect(vaultAuthEnvironment(cfg, 'bff')).toEqual({});
  });
});
