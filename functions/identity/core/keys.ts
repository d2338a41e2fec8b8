import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, errors, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTVerifyGetKey } from 'jose';
import { ACCESS_TOKEN_ALG } from '../../shared/auth';

/**
 * The ES256 signing key ring. Key material lives in a secret store (Vault KV at
 * secret/identity/signing-keys in production), never in the repo.
 *
 * - First use with no stored document generates a key pair and stores it (compare-and-set,
 *   so concurrent cold starts agree on one key).
 * - `rotate()` adds a new key whose `signFrom` lies `publishLeadMs` in the future: the JWKS
 *   publishes it before anything is signed with it, so verifiers with a cached JWKS are
 *   never surprised. Older public keys stay published until every token they signed has
 *   expired (`accessTtlSec` after the next key took over), then they are pruned.
 */
export interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: number;
  /** Epoch ms from which this key signs (until a newer key's signFrom). */
  signFrom: number;
}

export interface KeyDocument {
  keys: StoredKey[];
}

/** The port to the secret store. `version` is the store's version for compare-and-set (0 = absent). */
export interface KeyStore {
  load(): Promise<{ doc: KeyDocument; version: number } | null>;
  /** Writes only when the stored version still equals `expectedVersion`; false on a conflict. */
  save(doc: KeyDocument, expectedVersion: number): Promise<boolean>;
}

export interface KeyRingOptions {
  accessTtlSec: number;
  /** How long a new key is published before it signs. */
  publishLeadMs?: number;
  /** How long a loaded document is trusted before it is re-read (other instances may rotate). */
  cacheMs?: number;
  now?: () => number;
}

export interface PublicJwk extends JWK {
  kid: string;
  alg: string;
  use: string;
}

const PRUNE_MARGIN_MS = 60_000;

export async function newStoredKey(signFrom: number, now: number): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
  const kid = `${new Date(now).toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  return {
    kid,
    privateJwk: await exportJWK(privateKey),
    publicJwk: await exportJWK(publicKey),
    createdAt: now,
    signFrom,
  };
}

export class KeyRing {
  private cached?: { doc: KeyDocument; version: number; loadedAt: number };
  private loading?: Promise<{ doc: KeyDocument; version: number }>;
  private readonly imported = new Map<string, Promise<CryptoKey>>();
  private readonly now: () => number;
  private lastForcedReload = 0;

  constructor(
    private readonly store: KeyStore,
    private readonly opts: KeyRingOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The key that signs now: the newest whose signFrom has passed. */
  async signingKey(): Promise<{ kid: string; key: CryptoKey }> {
    const { doc } = await this.document();
    const now = this.now();
    const active =
      doc.keys.filter((k) => k.signFrom <= now).sort((a, b) => b.signFrom - a.signFrom)[0] ??
      // Only keys scheduled in the future: sign with the earliest (cannot happen after a normal rotation).
      [...doc.keys].sort((a, b) => a.signFrom - b.signFrom)[0];
    let key = this.imported.get(active.kid);
    if (!key) {
      key = importJWK(active.privateJwk, ACCESS_TOKEN_ALG) as Promise<CryptoKey>;
      this.imported.set(active.kid, key);
    }
    return { kid: active.kid, key: await key };
  }

  /** The published set: every key still needed for verification, the scheduled next one included. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    const { doc } = await this.document();
    return {
      keys: [...doc.keys].sort((a, b) => b.signFrom - a.signFrom).map((k) => ({ ...publicOnly(k.publicJwk), kid: k.kid, alg: ACCESS_TOKEN_ALG, use: 'sig' })),
    };
  }

  /**
   * A local key resolver over the current JWKS (identity verifies its own tokens with it).
   * An unknown kid re-reads the store (another instance may have rotated), at most once per
   * 5 s so made-up kids cannot turn into a flood of secret-store reads.
   */
  async verificationKeys(): Promise<JWTVerifyGetKey> {
    let set = createLocalJWKSet(await this.jwks());
    return async (header, token) => {
      try {
        return await set(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey) || this.now() - this.lastForcedReload < 5000) throw err;
        this.lastForcedReload = this.now();
        this.invalidate();
        set = createLocalJWKSet(await this.jwks());
        return set(header, token);
      }
    };
  }

  /**
   * Adds a new signing key (published now, signing after publishLeadMs) and prunes keys no
   * token can still need. Returns the new kid.
   */
  async rotate(): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.document(true);
      const now = this.now();
      const next = await newStoredKey(now + (this.opts.publishLeadMs ?? 0), now);
      const doc: KeyDocument = { keys: prune([...current.doc.keys, next], now, this.opts.accessTtlSec) };
      if (await this.store.save(doc, current.version)) {
        this.cached = undefined;
        return next.kid;
      }
    }
    throw new Error('Key rotation kept conflicting with concurrent writers');
  }

  /** Forget the cached document (tests, or after an out-of-band change). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async document(force = false): Promise<{ doc: KeyDocument; version: number }> {
    const fresh = this.cached && this.now() - this.cached.loadedAt < (this.opts.cacheMs ?? 30_000);
    if (!force && fresh) return this.cached!;
    this.loading ??= this.loadOrCreate().finally(() => {
      this.loading = undefined;
    });
    const result = await this.loading;
    this.cached = { ...result, loadedAt: this.now() };
    return result;
  }

  private async loadOrCreate(): Promise<{ doc: KeyDocument; version: number }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const loaded = await this.store.load();
      if (loaded?.doc.keys?.length) return loaded;
      const now = this.now();
      const doc: KeyDocument = { keys: [await newStoredKey(now, now)] };
      // Another instance may create it at the same moment: compare-and-set, then re-read.
      if (await this.store.save(doc, loaded?.version ?? 0)) {
        const reread = await this.store.load();
        if (reread) return reread;
      }
    }
    throw new Error('Could not load or create the signing keys');
  }
}

function publicOnly(jwk: JWK): JWK {
  const { kty, crv, x, y } = jwk;
  return { kty, crv, x, y };
}

/**
 * Keeps the newest signing key, any scheduled key, and each older key until every token it
 * could have signed has expired: accessTtl (+ margin) after its successor started signing.
 */
export function prune(keys: StoredKey[], now: number, accessTtlSec: number): StoredKey[] {
  const sorted = [...keys].sort((a, b) => a.signFrom - b.signFrom);
  return sorted.filter((_k, i) => {
    const successor = sorted[i + 1];
    if (!successor) return true;
    if (successor.signFrom > now) return true;
    return successor.signFrom + accessTtlSec * 1000 + PRUNE_MARGIN_MS > now;
  });
}

/** An in-memory store for unit tests and local tools. */
export class MemoryKeyStore implements KeyStore {
  private state: { doc: KeyDocument; version: number } | null = null;
  async load() {
    return this.state ? structuredClone(this.state) : null;
  }
  async save(doc: KeyDocument, expectedVersion: number) {
    if ((this.state?.version ?? 0) !== expectedVersion) return false;
    this.state = { doc: structuredClone(doc), version: expectedVersion + 1 };
    return true;
  }
}
