import type { KeyDocument, KeyStore } from '../core/keys';
import type { VaultClient } from '../../shared/vault';

/**
 * The signing keys as one Vault/OpenBao KV v2 secret (default secret/identity/signing-keys).
 * Writes use KV v2 check-and-set so concurrent cold starts and rotations cannot overwrite
 * each other: `cas: 0` creates only when absent, `cas: n` updates only version n.
 * Goes through the shared VaultClient, so it uses whichever Vault auth the service has.
 */
export class VaultKeyStore implements KeyStore {
  constructor(
    private readonly vault: VaultClient,
    private readonly path = 'identity/signing-keys',
    private readonly mount = 'secret',
  ) {}

  async load(): Promise<{ doc: KeyDocument; version: number } | null> {
    const hit = await this.vault.readKvVersioned<{ keys?: KeyDocument['keys'] }>(this.path, this.mount);
    // A deleted secret still has a version: report it so the next write's CAS matches.
    return hit ? { doc: { keys: hit.data?.keys ?? [] }, version: hit.version } : null;
  }

  async save(doc: KeyDocument, expectedVersion: number): Promise<boolean> {
    return this.vault.writeKvCas(this.path, { keys: doc.keys }, expectedVersion, this.mount);
  }
}
