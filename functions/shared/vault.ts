/**
 * A small typed client for the parts of the Vault/OpenBao HTTP API we use:
 * KV v2 reads, database secrets engine leases, lease renew and revoke.
 * (The HTTP API is stable and tiny; a dependency such as node-vault would add
 * ~1 MB of request libraries to every bundle for four calls.)
 * Services build it with `vaultClient(cfg)`: a static token locally, AWS IAM login on AWS.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { awsIamLogin, resolveStsEndpoint } from './vault-aws-login';
import { LoginTokenAuth, postVaultAuth, StaticTokenAuth, type VaultAuth, VaultConfigError, VaultError, vaultErrorDetail } from './vault-auth';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface DbLease {
  leaseId: string;
  username: string;
  password: string;
  /** Seconds the lease is valid from `issuedAt`. */
  leaseDuration: number;
  renewable: boolean;
  issuedAt: number;
}

export class VaultClient {
  private readonly auth: VaultAuth;

  /** `auth` is a static token (tests, local dev) or a login method; services use `vaultClient(cfg)`. */
  constructor(
    private readonly addr: string,
    auth: string | VaultAuth,
    private readonly timeoutMs = 3000,
  ) {
    this.auth = typeof auth === 'string' ? new StaticTokenAuth(auth) : auth;
  }

  /** Sends one request with the current token; a 403 to a login token logs in again once. */
  private async send(method: Method, path: string, body?: unknown): Promise<{ status: number; ok: boolean; text: string }> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.auth.token();
      const res = await fetch(`${this.addr.replace(/\/+$/, '')}/v1/${path}`, {
        method,
        headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      // A revoked or expired login token: Vault says 403 (permission denied), not 401.
      if (res.status === 403 && attempt === 0 && this.auth.rejected(token)) continue;
      return { status: res.status, ok: res.ok, text };
    }
  }

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    if (!res.ok) {
      // Never echo request bodies (they may carry secrets) nor the token.
      const errors = vaultErrorDetail(res.text);
      throw new VaultError(res.status, `Vault ${method} ${path} failed with ${res.status}${errors ? `: ${errors}` : ''}`);
    }
    return (res.text ? JSON.parse(res.text) : {}) as T;
  }

  /** KV v2 read of `<mount>/data/<path>`; returns the secret's fields. */
  async readKv<T extends Record<string, unknown>>(path: string, mount = 'secret'): Promise<T> {
    const res = await this.request<{ data: { data: T } }>('GET', `${mount}/data/${path}`);
    return res.data.data;
  }

  async writeKv(path: string, data: Record<string, unknown>, mount = 'secret'): Promise<void> {
    await this.request('POST', `${mount}/data/${path}`, { data });
  }

  /**
   * KV v2 read with the secret's version, for check-and-set writers. A deleted secret keeps its
   * version (Vault answers 404 with metadata): `data` is null then. Never written: null.
   */
  async readKvVersioned<T extends Record<string, unknown>>(path: string, mount = 'secret'): Promise<{ data: T | null; version: number } | null> {
    const res = await this.send('GET', `${mount}/data/${path}`);
    type Body = { data?: { data?: T | null; metadata?: { version?: number } } };
    const parse = (): Body => {
      try {
        return JSON.parse(res.text) as Body;
      } catch {
        return {};
      }
    };
    if (res.status === 404) {
      const version = parse().data?.metadata?.version;
      return version ? { data: null, version } : null;
    }
    if (!res.ok) throw new VaultError(res.status, `Vault read of ${mount}/${path} failed with ${res.status}`);
    const body = parse();
    return { data: body.data?.data ?? null, version: body.data?.metadata?.version ?? 0 };
  }

  /** KV v2 check-and-set write: `cas: 0` creates only when absent. False when the version moved. */
  async writeKvCas(path: string, data: Record<string, unknown>, cas: number, mount = 'secret'): Promise<boolean> {
    const res = await this.send('POST', `${mount}/data/${path}`, { options: { cas }, data });
    if (res.ok) return true;
    // KV v2 answers 400 "check-and-set parameter did not match the current version".
    if (res.status === 400 && /check-and-set/i.test(res.text)) return false;
    throw new VaultError(res.status, `Vault write of ${mount}/${path} failed with ${res.status}`);
  }

  async leaseDbCredentials(role: string, mount = 'database'): Promise<DbLease> {
    const res = await this.request<{
      lease_id: string;
      lease_duration: number;
      renewable: boolean;
      data: { username: string; password: string };
    }>('GET', `${mount}/creds/${role}`);
    return {
      leaseId: res.lease_id,
      username: res.data.username,
      password: res.data.password,
      leaseDuration: res.lease_duration,
      renewable: res.renewable,
      issuedAt: Date.now(),
    };
  }

  /** Renews a lease; Vault may grant less than asked when the lease nears its max TTL. */
  async renewLease(leaseId: string, incrementSeconds: number): Promise<{ leaseDuration: number; renewable: boolean }> {
    const res = await this.request<{ lease_duration: number; renewable: boolean }>('PUT', 'sys/leases/renew', {
      lease_id: leaseId,
      increment: incrementSeconds,
    });
    return { leaseDuration: res.lease_duration, renewable: res.renewable };
  }

  async revokeLease(leaseId: string): Promise<void> {
    await this.request('PUT', 'sys/leases/revoke', { lease_id: leaseId });
  }

  async health(): Promise<{ initialized: boolean; sealed: boolean }> {
    return this.request('GET', 'sys/health');
  }
}

/** The Vault settings of functions/shared/config.ts this factory reads. */
export interface VaultSettings {
  VAULT_ADDR: string;
  VAULT_AUTH: 'token' | 'aws-iam';
  VAULT_TOKEN?: string;
  VAULT_AWS_ROLE?: string;
  VAULT_AWS_MOUNT: string;
  VAULT_AWS_IAM_SERVER_ID?: string;
  VAULT_AWS_STS_ENDPOINT?: string;
  AWS_ENDPOINT_URL?: string;
  AWS_REGION: string;
}

const clients = new Map<string, VaultClient>();

/**
 * The one way services get a VaultClient. One client per setting set per process, so a login
 * token is cached across calls and warm invocations instead of one login per request.
 */
export function vaultClient(cfg: VaultSettings): VaultClient {
  const key = JSON.stringify([
    cfg.VAULT_ADDR,
    cfg.VAULT_AUTH,
    cfg.VAULT_TOKEN,
    cfg.VAULT_AWS_ROLE,
    cfg.VAULT_AWS_MOUNT,
    cfg.VAULT_AWS_IAM_SERVER_ID,
    cfg.VAULT_AWS_STS_ENDPOINT,
    cfg.AWS_ENDPOINT_URL,
    cfg.AWS_REGION,
  ]);
  let client = clients.get(key);
  if (!client) {
    client = new VaultClient(cfg.VAULT_ADDR, vaultAuth(cfg));
    clients.set(key, client);
  }
  return client;
}

/** For tests that change the settings between cases. */
export function resetVaultClients(): void {
  clients.clear();
}

export function vaultAuth(cfg: VaultSettings): VaultAuth {
  if (cfg.VAULT_AUTH === 'token') {
    if (!cfg.VAULT_TOKEN) throw new VaultConfigError('VAULT_TOKEN is required when VAULT_AUTH=token');
    return new StaticTokenAuth(cfg.VAULT_TOKEN);
  }
  const role = cfg.VAULT_AWS_ROLE;
  if (!role) throw new VaultConfigError('VAULT_AWS_ROLE is required when VAULT_AUTH=aws-iam');
  // The role's credentials (in a Lambda bundle, its environment: shared/lambda-credentials.ts).
  const credentials = defaultProvider();
  const stsEndpoint = resolveStsEndpoint(cfg);
  return new LoginTokenAuth({
    login: () =>
      awsIamLogin({
        vaultAddr: cfg.VAULT_ADDR,
        role,
        mount: cfg.VAULT_AWS_MOUNT,
        stsEndpoint,
        region: cfg.AWS_REGION,
        serverId: cfg.VAULT_AWS_IAM_SERVER_ID,
        credentials,
      }),
    renew: (token, incrementSeconds) => renewSelf(cfg.VAULT_ADDR, token, incrementSeconds),
  });
}

/** auth/token/renew-self: extends the token we hold (Vault caps it at the token's max TTL). */
export function renewSelf(
  addr: string,
  token: string,
  incrementSeconds: number,
  timeoutMs = 3000,
): Promise<{ token: string; leaseDuration: number; renewable: boolean }> {
  return postVaultAuth({
    addr,
    path: 'auth/token/renew-self',
    token,
    body: { increment: `${incrementSeconds}s` },
    timeoutMs,
    label: 'Vault token renew-self',
  });
}
