import { apiBaseUrl, parseExecuteApiUrl } from '../../functions/shared/endpoints';

describe('apiBaseUrl', () => {
  it('builds the AWS execute-api URL when no emulator endpoint is set', () => {
    expect(apiBaseUrl({ apiId: 'abc123', stage: 'prod' }, { region: 'eu-west-1' })).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod');
    expect(apiBaseUrl({ apiId: 'abc123', stage: '$default' }, { region: 'eu-west-1' })).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
  });

  it('builds the emulator path form from the configured endpoint, not a hard-coded host', () => {
    expect(apiBaseUrl({ apiId: 'abc123', stage: 'prod' }, { region: 'us-east-1', emulatorEndpoint: 'http://10.0.0.5:4510/' })).toBe(
      'http://10.0.0.5:4510/_aws/execute-api/abc123/prod',
    );
    expect(apiBaseUrl({ apiId: 'x1', stage: '$default' }, { region: 'us-east-1', emulatorEndpoint: 'http://127.0.0.1:4566' })).toBe(
      'http://127.0.0.1:4566/_aws/execute-api/x1',
    );
  });

  it('round-trips an execute-api URL from stack outputs', () => {
    expect(parseExecuteApiUrl('https://abc123.execute-api.us-east-1.amazonaws.com/prod/')).toEqual({
      apiId: 'abc123',
      region: 'us-east-1',
      stage: 'prod',
    });
    expect(() => parseExecuteApiUrl('http://example.com/')).toThrow(/Not an execute-api URL/);
  });
});
