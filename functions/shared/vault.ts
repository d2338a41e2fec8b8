/**
 * A small typed client for the parts of the Vault/OpenBao HTTP API we use:
 * KV v2 reads, database secrets engine leases, lease renew and revoke.
 * (The HTTP API is stable and tiny; a dependency such as node-vault would add
 * ~1 MB of request libraries to every bundle for four calls.)
 */
export interface DbLease {
  leaseId: string;
  username: string;
  password: string;
  /** Seconds the lease is valid from `issuedAt`. */
  leaseDuration: number;
  renewable: boolean;
  issuedAt: number;
}

export class VaultError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

export class VaultClient {
  constructor(
    private readonly addr: string,
    private readonly token: string,
    private readonly timeoutMs = 3000,
  ) {}

  private async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.addr.replace(/\/+$/, '')}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': this.token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      // Vault error bodies are {"errors": [...]}; never echo request bodies (they may carry secrets).
      let errors = '';
      try {
        errors = (JSON.parse(text) as { errors?: string[] }).errors?.join('; ') ?? '';
      } catch {
        /* not JSON */
      }
      throw new VaultError(res.status, `Vault ${method} ${path} failed with ${res.status}${errors ? `: ${errors}` : ''}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** KV v2 read of `<mount>/data/<path>`; returns the secret's fields. */
  async readKv<T extends Record<string, unknown>>(path: string, mount = 'secret'): Promise<T> {
    const res = await this.request<{ data: { data: T } }>('GET', `${mount}/data/${path}`);
    return res.data.data;
  }

  async writeKv(path: string, data: Record<string, unknown>, mount = 'secret'): Promise<void> {
    await this.request('POST', `${mount}/data/${path}`, { data });
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
