import type { KeyDocument, KeyStore } from '../core/keys';

/**
 * The signing keys as one Vault/OpenBao KV v2 secret (default secret/identity/signing-keys).
 * Writes use KV v2 check-and-set so concurrent cold starts and rotations cannot overwrite
 * each other: `cas: 0` creates only when absent, `cas: n` updates only version n.
 */
export class VaultKeyStore implements KeyStore {
  constructor(
    private readonly addr: string,
    private readonly token: string,
    private readonly path = 'identity/signing-keys',
    private readonly mount = 'secret',
    private readonly timeoutMs = 3000,
  ) {}

  private url(): string {
    return `${this.addr.replace(/\/+$/, '')}/v1/${this.mount}/data/${this.path}`;
  }

  async load(): Promise<{ doc: KeyDocument; version: number } | null> {
    const res = await fetch(this.url(), {
      headers: { 'X-Vault-Token': this.token },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 404) {
      // A deleted secret still has a version: report it so the next write's CAS matches.
      const body = (await res.json().catch(() => ({}))) as { data?: { metadata?: { version?: number } } };
      const version = body.data?.metadata?.version;
      return version ? { doc: { keys: [] }, version } : null;
    }
    if (!res.ok) throw new Error(`Vault read of ${this.mount}/${this.path} failed with ${res.status}`);
    const body = (await res.json()) as { data: { data: { keys?: KeyDocument['keys'] } | null; metadata: { version: number } } };
    return { doc: { keys: body.data.data?.keys ?? [] }, version: body.data.metadata.version };
  }

  async save(doc: KeyDocument, expectedVersion: number): Promise<boolean> {
    const res = await fetch(this.url(), {
      method: 'POST',
      headers: { 'X-Vault-Token': this.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ options: { cas: expectedVersion }, data: { keys: doc.keys } }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.ok) return true;
    const text = await res.text();
    // KV v2 answers 400 "check-and-set parameter did not match the current version".
    if (res.status === 400 && /check-and-set/i.test(text)) return false;
    throw new Error(`Vault write of ${this.mount}/${this.path} failed with ${res.status}`);
  }
}
