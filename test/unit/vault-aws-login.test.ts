import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { config } from '../../functions/shared/config';
import {
  awsIamLogin,
  decodeLoginPayload,
  resolveStsEndpoint,
  stsSigningRegion,
  type AwsLoginPayload,
  type SignedStsRequest,
} from '../../functions/shared/vault-aws-login';
import { LoginTokenAuth, VaultConfigError, VaultError } from '../../functions/shared/vault-auth';
import { renewSelf, resetVaultClients, VaultClient, vaultAuth, vaultClient, type VaultSettings } from '../../functions/shared/vault';

/**
 * Vault AWS IAM login against a stand-in for Vault on 127.0.0.1: the login payload's shape
 * (what `vault login -method=aws` sends), a SigV4 signature checked independently here,
 * token caching, renewal and re-login, and errors that carry no secrets.
 */
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN' };
const SERVER_ID = 'vault.checkout-mesh.example';

interface Seen {
  method: string;
  path: string;
  token?: string;
  body: string;
}

/** A tiny Vault: logins hand out numbered tokens; KV reads need a live one. */
class FakeVault {
  seen: Seen[] = [];
  live = new Set<string>();
  issued = 0;
  leaseDuration = 30;
  renewable = true;
  loginStatus = 200;
  loginErrors: string[] = [];
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const token = req.headers['x-vault-token'] as string | undefined;
      this.seen.push({ method: req.method ?? '', path: req.url ?? '', token, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (/^\/v1\/auth\/[\w/-]+\/login$/.test(req.url ?? '') && req.method === 'POST') {
        if (this.loginStatus !== 200) return send(this.loginStatus, { errors: this.loginErrors });
        const t = `s.token${++this.issued}xxxxxxxxxxxxxxxx`;
        this.live.add(t);
        return send(200, { auth: { client_token: t, lease_duration: this.leaseDuration, renewable: this.renewable } });
      }
      if (req.url === '/v1/auth/token/renew-self' && req.method === 'POST') {
        if (!token || !this.live.has(token)) return send(403, { errors: ['permission denied'] });
        return send(200, { auth: { client_token: token, lease_duration: this.leaseDuration, renewable: this.renewable } });
      }
      if (req.url === '/v1/secret/data/payments/stripe') {
        if (!token || !this.live.has(token)) return send(403, { errors: ['permission denied'] });
        return send(200, { data: { data: { webhookSecret: 'whsec_x' }, metadata: { version: 1 } } });
      }
      send(404, { errors: [] });
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  logins(): Seen[] {
    return this.seen.filter((s) => s.path.endsWith('/login'));
  }
}

/** SigV4 recomputed from the decoded request with node:crypto (independent of the signer used). */
function expectValidSigV4(req: SignedStsRequest, secret: string, region: string): string[] {
  const auth = req.headers.Authorization;
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  expect(m).not.toBeNull();
  const [, , day, signedRegion, signedHeaders, signature] = m!;
  expect(signedRegion).toBe(region);
  const names = signedHeaders.split(';');
  const lower = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const url = new URL(req.url);
  const canonical = [
    req.method,
    url.pathname,
    '',
    ...names.map((n) => `${n}:${lower[n].trim()}`),
    '',
    signedHeaders,
    createHash('sha256').update(req.body).digest('hex'),
  ].join('\n');
  const amzDate = lower['x-amz-date'];
  const scope = `${day}/${region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 'sts'), 'aws4_request');
  expect(createHmac('sha256', key).update(toSign).digest('hex')).toBe(signature);
  return names;
}

let vault: FakeVault;
let addr: string;
beforeEach(async () => {
  vault = new FakeVault();
  addr = await vault.start();
  resetVaultClients();
});
afterEach(() => vault.stop());

describe('AWS IAM login request', () => {
  it('POSTs role + a signed sts:GetCallerIdentity to auth/<mount>/login, as the vault CLI does', async () => {
    const login = await awsIamLogin({
      vaultAddr: addr,
      role: 'payments',
      stsEndpoint: 'https://sts.amazonaws.com/',
      region: 'eu-west-1',
      serverId: SERVER_ID,
      credentials: CREDS,
    });
    expect(login).toEqual({ token: 's.token1xxxxxxxxxxxxxxxx', leaseDuration: 30, renewable: true });

    const [seen] = vault.logins();
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/v1/auth/aws/login');
    expect(seen.token).toBeUndefined();
    const payload = JSON.parse(seen.body) as AwsLoginPayload;
    expect(Object.keys(payload).sort()).toEqual(['iam_http_request_method', 'iam_request_body', 'iam_request_headers', 'iam_request_url', 'role']);
    expect(payload.role).toBe('payments');
    expect(payload.iam_http_request_method).toBe('POST');
    expect(Buffer.from(payload.iam_request_url, 'base64').toString()).toBe('https://sts.amazonaws.com/');
    expect(Buffer.from(payload.iam_request_body, 'base64').toString()).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    // Go's http.Header shape: name -> [value].
    const rawHeaders = JSON.parse(Buffer.from(payload.iam_request_headers, 'base64').toString()) as Record<string, string[]>;
    for (const v of Object.values(rawHeaders)) expect(Array.isArray(v) && v.length === 1).toBe(true);

    const req = decodeLoginPayload(payload);
    expect(req.headers['Content-Type']).toBe('application/x-www-form-urlencoded; charset=utf-8');
    expect(req.headers.Host).toBe('sts.amazonaws.com');
    expect(req.headers['X-Amz-Date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(req.headers['X-Amz-Security-Token']).toBe(CREDS.sessionToken);
    expect(req.headers['X-Vault-Aws-Iam-Server-Id']).toBe(SERVER_ID);
    expect(req.headers.Authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/sts\/aws4_request, /);
    // The global endpoint signs for us-east-1 whatever the Lambda's region.
    const signed = expectValidSigV4(req, CREDS.secretAccessKey, 'us-east-1');
    expect(signed).toEqual(expect.arrayContaining(['host', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-vault-aws-iam-server-id']));
  });

  it('uses the configured mount, the regional endpoint and its region; no session token, no server id -> no such headers', async () => {
    await awsIamLogin({
      vaultAddr: `${addr}/`,
      role: 'orders',
      mount: 'aws-prod',
      stsEndpoint: resolveStsEndpoint({ VAULT_AWS_STS_ENDPOINT: 'https://sts.eu-central-1.amazonaws.com' }),
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: CREDS.accessKeyId, secretAccessKey: CREDS.secretAccessKey }),
    });
    const [seen] = vault.logins();
    expect(seen.path).toBe('/v1/auth/aws-prod/login');
    const req = decodeLoginPayload(JSON.parse(seen.body) as AwsLoginPayload);
    expect(req.url).toBe('https://sts.eu-central-1.amazonaws.com/');
    expect(req.headers['X-Amz-Security-Token']).toBeUndefined();
    expect(req.headers['X-Vault-Aws-Iam-Server-Id']).toBeUndefined();
    expect(expectValidSigV4(req, CREDS.secretAccessKey, 'eu-central-1')).not.toContain('x-vault-aws-iam-server-id');
  });

  it('resolves the STS endpoint: explicit, else the emulator, else global; signing region from the host', () => {
    expect(resolveStsEndpoint({})).toBe('https://sts.amazonaws.com/');
    expect(resolveStsEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe('http://127.0.0.1:4566/');
    expect(resolveStsEndpoint({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', VAULT_AWS_STS_ENDPOINT: 'https://sts.us-west-2.amazonaws.com' })).toBe(
      'https://sts.us-west-2.amazonaws.com/',
    );
    expect(stsSigningRegion('https://sts.amazonaws.com/', 'eu-west-1')).toBe('us-east-1');
    expect(stsSigningRegion('https://sts.ap-south-1.amazonaws.com/', 'eu-west-1')).toBe('ap-south-1');
    expect(stsSigningRegion('http://127.0.0.1:4566/', 'eu-west-1')).toBe('eu-west-1');
  });

  it('turns a refused login into a VaultError that carries no secret, signature or token', async () => {
    vault.loginStatus = 400;
    // A Vault that echoes what it got (AWS error texts quote parts of the request).
    vault.loginErrors = [`error: ${CREDS.sessionToken} ${CREDS.secretAccessKey} Signature=${'ab'.repeat(32)} s.leakedtoken0123456789abcdef`];
    const err = await awsIamLogin({
      vaultAddr: addr,
      role: 'payments',
      stsEndpoint: 'https://sts.amazonaws.com/',
      region: 'us-east-1',
      serverId: SERVER_ID,
      credentials: CREDS,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).status).toBe(400);
    const text = `${(err as Error).message} ${(err as Error).stack}`;
    expect(text).toMatch(/auth\/aws\/login/);
    const req = decodeLoginPayload(JSON.parse(vault.logins()[0].body) as AwsLoginPayload);
    const signature = /Signature=([0-9a-f]+)/.exec(req.headers.Authorization)![1];
    for (const secret of [CREDS.sessionToken, CREDS.secretAccessKey, signature, 'ab'.repeat(32), 's.leakedtoken0123456789abcdef']) expect(text).not.toContain(secret);
  });

  it('is a VaultError (status 0) when Vault cannot be reached', async () => {
    const dead = `http://127.0.0.1:1`;
    await expect(
      awsIamLogin({ vaultAddr: dead, role: 'payments', stsEndpoint: 'https://sts.amazonaws.com/', region: 'us-east-1', credentials: CREDS, timeoutMs: 1000 }),
    ).rejects.toMatchObject({ name: 'VaultError', status: 0 });
  });
});

describe('VaultClient with aws-iam', () => {
  const settings = (over: Partial<VaultSettings> = {}): VaultSettings => ({
    VAULT_ADDR: addr,
    VAULT_AUTH: 'aws-iam',
    VAULT_AWS_ROLE: 'payments',
    VAULT_AWS_MOUNT: 'aws',
    VAULT_AWS_IAM_SERVER_ID: SERVER_ID,
    AWS_REGION: 'us-east-1',
    ...over,
  });
  const saved = { ...process.env };
  beforeEach(() => {
    // The standard provider chain reads these first, as in a Lambda.
    process.env.AWS_ACCESS_KEY_ID = CREDS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = CREDS.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = CREDS.sessionToken;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('logs in once and sends that token on every call (the factory shares one client)', async () => {
    for (let i = 0; i < 5; i++) await vaultClient(settings()).readKv('payments/stripe');
    await Promise.all([1, 2, 3].map(() => vaultClient(settings()).readKv('payments/stripe')));
    expect(vault.logins()).toHaveLength(1);
    const reads = vault.seen.filter((s) => s.path.startsWith('/v1/secret/'));
    expect(reads).toHaveLength(8);
    for (const r of reads) expect(r.token).toBe('s.token1xxxxxxxxxxxxxxxx');
    // The emulator-free default: the global endpoint, with the provider chain's session token.
    const req = decodeLoginPayload(JSON.parse(vault.logins()[0].body) as AwsLoginPayload);
    expect(req.url).toBe('https://sts.amazonaws.com/');
    expect(req.headers['X-Amz-Security-Token']).toBe(CREDS.sessionToken);
  });

  it('logs in again once on a 403 (token revoked), and fails with VaultError when the fresh token is refused too', async () => {
    const client = vaultClient(settings());
    await client.readKv('payments/stripe');
    vault.live.clear();
    await expect(client.readKv('payments/stripe')).resolves.toEqual({ webhookSecret: 'whsec_x' });
    expect(vault.logins()).toHaveLength(2);

    // A role without the policy: the new token is refused as well; one retry only.
    const refuse = vault.live;
    vault.live = { add: () => refuse, has: () => false, clear: () => undefined } as unknown as Set<string>;
    const err = await client.readKv('payments/stripe').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).status).toBe(403);
    expect((err as Error).message).not.toMatch(/s\.token/);
    expect(vault.logins()).toHaveLength(3);
  });

  it('renews at 2/3 of the lease, and logs in again when renewal is capped or the token expired', async () => {
    let now = 1_000_000;
    const cfg = settings();
    const auth = new LoginTokenAuth({
      login: () => awsIamLogin({ vaultAddr: addr, role: 'payments', stsEndpoint: 'https://sts.amazonaws.com/', region: 'us-east-1', credentials: CREDS }),
      renew: (token, inc) => renewSelf(cfg.VAULT_ADDR, token, inc),
      now: () => now,
    });
    const client = new VaultClient(addr, auth);
    await client.readKv('payments/stripe');
    now += 15_000; // half the 30 s lease: nothing to do
    await client.readKv('payments/stripe');
    expect([auth.logins, auth.renewals]).toEqual([1, 0]);

    now += 6_000; // past 2/3: renew-self with the same token
    await client.readKv('payments/stripe');
    expect([auth.logins, auth.renewals]).toEqual([1, 1]);
    const renew = vault.seen.find((s) => s.path === '/v1/auth/token/renew-self')!;
    expect(renew.token).toBe('s.token1xxxxxxxxxxxxxxxx');
    expect(JSON.parse(renew.body)).toEqual({ increment: '30s' });

    vault.leaseDuration = 10; // near max TTL Vault grants less than asked: log in anew
    now += 21_000;
    await client.readKv('payments/stripe');
    expect([auth.logins, auth.renewals]).toEqual([2, 1]);

    now += 60_000; // long past expiry (a frozen Lambda): straight to a login
    await client.readKv('payments/stripe');
    expect(auth.logins).toBe(3);
    expect(vault.seen.at(-1)!.token).toBe('s.token3xxxxxxxxxxxxxxxx');
  });
});

describe('configuration', () => {
  it('aws-iam takes the service name as role; an unusable role is a config error', () => {
    expect(config({ SERVICE_NAME: 'catalog', VAULT_AUTH: 'aws-iam' }).VAULT_AWS_ROLE).toBe('catalog');
    expect(config({ SERVICE_NAME: 'catalog', VAULT_AUTH: 'aws-iam', VAULT_AWS_ROLE: 'shop-catalog' }).VAULT_AWS_ROLE).toBe('shop-catalog');
    expect(() => config({ SERVICE_NAME: 'catalog', VAULT_AUTH: 'aws-iam', VAULT_AWS_ROLE: '' })).toThrow(/VAULT_AWS_ROLE/);
    expect(() => config({ SERVICE_NAME: 'catalog', VAULT_AUTH: 'aws-iam', VAULT_AWS_ROLE: 'a/b' })).toThrow(/VAULT_AWS_ROLE/);
    expect(() => config({ SERVICE_NAME: 'catalog', VAULT_AUTH: 'iam' })).toThrow(/VAULT_AUTH/);
    const local = config({ SERVICE_NAME: 'catalog' });
    expect([local.VAULT_AUTH, local.VAULT_AWS_MOUNT, local.VAULT_AWS_ROLE]).toEqual(['token', 'aws', undefined]);
  });

  it('token mode needs VAULT_TOKEN; aws-iam needs a role', () => {
    const base = { VAULT_ADDR: addr, VAULT_AWS_MOUNT: 'aws', AWS_REGION: 'us-east-1' };
    expect(() => vaultAuth({ ...base, VAULT_AUTH: 'token' })).toThrow(VaultConfigError);
    expect(() => vaultAuth({ ...base, VAULT_AUTH: 'aws-iam' })).toThrow(/VAULT_AWS_ROLE/);
    expect(vaultClient({ ...base, VAULT_AUTH: 'token', VAULT_TOKEN: 'dev' })).toBe(vaultClient({ ...base, VAULT_AUTH: 'token', VAULT_TOKEN: 'dev' }));
  });
});
