import { defaultProvider, LambdaCredentialsMissing, lambdaCredentials } from '../../functions/shared/lambda-credentials';

/**
 * What a Lambda bundle resolves `@aws-sdk/credential-provider-node` to (cdk/lib/service-function.ts):
 * the execution role's session from the environment, as Lambda and the emulator provide it.
 */
describe('lambda credentials', () => {
  it("reads the role session Lambda puts in the function's environment", () => {
    expect(lambdaCredentials({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' })).toEqual({
      accessKeyId: 'AKIA1',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    });
    expect(lambdaCredentials({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SESSION_TOKEN: '' })).toEqual({
      accessKeyId: 'test',
      secretAccessKey: 'test',
    });
    expect(lambdaCredentials({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_CREDENTIAL_EXPIRATION: '2030-01-01T00:00:00Z' }).expiration?.toISOString()).toBe(
      '2030-01-01T00:00:00.000Z',
    );
  });

  it('fails with a message naming the variables when they are missing (never guesses another source)', () => {
    expect(() => lambdaCredentials({ AWS_ACCESS_KEY_ID: 'a' })).toThrow(LambdaCredentialsMissing);
    expect(() => lambdaCredentials({})).toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/);
  });

  it('is a provider as the SDK clients and our signers call it, reading the environment on each call', async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_ACCESS_KEY_ID = 'first';
      process.env.AWS_SECRET_ACCESS_KEY = 's';
      const provider = defaultProvider({ profile: 'ignored' });
      expect((await provider()).accessKeyId).toBe('first');
      process.env.AWS_ACCESS_KEY_ID = 'second';
      expect((await provider()).accessKeyId).toBe('second');
    } finally {
      process.env = saved;
    }
  });
});
