/**
 * How a VaultClient gets the token it sends: a static token (local dev) or a token obtained by
 * logging in (AWS IAM on AWS), cached and renewed before it expires. Kept apart from vault.ts so
 * the login methods (vault-aws-login.ts) can use VaultError without an import cycle.
 */

export class VaultError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}

/** A bad or missing Vault setting, found before any request is made. */
export class VaultConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultConfigError';
  }
}

/** What a login (or a renewal) returns: the client token and its lease. */
export interface VaultLogin {
  token: string;
  /** Seconds the token is valid; 0 means it does not expire (a root or periodic-less dev token). */
  leaseDuration: number;
  renewable: boolean;
}

export interface VaultAuth {
  /** The token to send now; logs in or renews first when none is cached or it is due. */
  token(): Promise<string>;
  /**
   * Vault answered 403 to `token`: forget it when it is still the cached one. Returns whether
   * a retry with a fresh token can help (never for a static token).
   */
  rejected(token: string): boolean;
}

export class StaticTokenAuth implements VaultAuth {
  constructor(private readonly value: string) {}
  async token(): Promise<string> {
    return this.value;
  }
  rejected(): boolean {
    return false;
  }
}

export interface LoginTokenAuthOptions {
  login: () => Promise<VaultLogin>;
  /** auth/token/renew-self with `token`, asking for `incrementSeconds`. */
  renew: (token: string, incrementSeconds: number) => Promise<VaultLogin>;
  /** Renew or log in again once this fraction of the lease has passed. Default 2/3. */
  refreshAtFraction?: number;
  now?: () => number;
}

interface Cached extends VaultLogin {
  issuedAt: number;
}

/**
 * A token from a login method, cached across calls (and warm Lambda invocations). Checked on
 * use rather than by a timer, because Lambda freezes timers between invocations.
 */
export class LoginTokenAuth implements VaultAuth {
  private cached?: Cached;
  private pending?: Promise<Cached>;
  logins = 0;
  renewals = 0;

  constructor(private readonly opts: LoginTokenAuthOptions) {}

  async token(): Promise<string> {
    const current = this.cached;
    if (current && !this.isDue(current)) return current.token;
    // One login/renewal at a time; concurrent callers share it.
    this.pending ??= this.refresh(current).finally(() => {
      this.pending = undefined;
    });
    return (await this.pending).token;
  }

  rejected(token: string): boolean {
    if (this.cached?.token === token) this.cached = undefined;
    return true;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private isDue(c: Cached): boolean {
    if (c.leaseDuration <= 0) return false;
    const fraction = this.opts.refreshAtFraction ?? 2 / 3;
    return this.now() >= c.issuedAt + c.leaseDuration * 1000 * fraction;
  }

  private async refresh(current: Cached | undefined): Promise<Cached> {
    // The lease counts from before the request, so a slow answer never makes us overestimate it.
    const started = this.now();
    if (current?.renewable && this.now() < current.issuedAt + current.leaseDuration * 1000) {
      try {
        const renewed = await this.opts.renew(current.token, current.leaseDuration);
        // Vault grants less than asked near the token's max TTL: then a new login is due.
        if (renewed.leaseDuration >= current.leaseDuration) {
          this.renewals++;
          this.cached = { ...current, leaseDuration: renewed.leaseDuration, renewable: renewed.renewable, issuedAt: started };
          return this.cached;
        }
      } catch {
        /* an expired or revoked token: log in again below */
      }
    }
    const loginStarted = this.now();
    const fresh = await this.opts.login();
    this.logins++;
    this.cached = { ...fresh, issuedAt: loginStarted };
    return this.cached;
  }
}

/** Vault's error bodies are {"errors": [...]}; AWS errors relayed through them can be long. */
export function vaultErrorDetail(text: string, secrets: readonly string[] = []): string {
  let detail = '';
  try {
    detail = (JSON.parse(text) as { errors?: string[] }).errors?.join('; ') ?? '';
  } catch {
    /* not JSON */
  }
  return redact(detail, secrets).slice(0, 300);
}

/** Removes known secret values and anything shaped like a SigV4 signature or a Vault token. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out
    .replace(/Signature=[0-9a-f]+/gi, 'Signature=[redacted]')
    .replace(/\b[0-9a-f]{64}\b/gi, '[redacted]')
    .replace(/\b(hvs|s|b|hvb|hvr)\.[A-Za-z0-9_-]{16,}/g, '[redacted]');
}

/**
 * POSTs to one of Vault's auth endpoints (a login, renew-self) and returns the `auth` block.
 * `label` names the call in errors; `secrets` are values that must never appear in them.
 */
export async function postVaultAuth(opts: {
  addr: string;
  path: string;
  body: unknown;
  token?: string;
  timeoutMs: number;
  label: string;
  secrets?: readonly string[];
}): Promise<VaultLogin> {
  const secrets = [...(opts.secrets ?? []), ...(opts.token ? [opts.token] : [])];
  let res: Response;
  try {
    res = await fetch(`${opts.addr.replace(/\/+$/, '')}/v1/${opts.path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(opts.token ? { 'X-Vault-Token': opts.token } : {}) },
      body: JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    throw new VaultError(0, `${opts.label} failed: ${redact((err as Error).message, secrets)}`);
  }
  const text = await res.text();
  if (!res.ok) {
    const detail = vaultErrorDetail(text, secrets);
    throw new VaultError(res.status, `${opts.label} failed with ${res.status}${detail ? `: ${detail}` : ''}`);
  }
  let auth: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } | undefined;
  try {
    auth = (JSON.parse(text) as { auth?: typeof auth }).auth;
  } catch {
    /* handled below */
  }
  if (!auth || typeof auth.client_token !== 'string' || !auth.client_token) {
    throw new VaultError(res.status, `${opts.label} answered without a client token`);
  }
  return {
    token: auth.client_token,
    leaseDuration: typeof auth.lease_duration === 'number' ? auth.lease_duration : 0,
    renewable: auth.renewable === true,
  };
}
