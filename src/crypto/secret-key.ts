// The server key: 32 random bytes that encrypt secrets at rest and key the Digest nonce HMAC.
// Purpose-specific subkeys come from HKDF, so one key never serves two algorithms.
import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export class SecretKeyError extends Error {}

export type KeyPurpose = 'secret-box' | 'digest-nonce' | 'key-check' | 'csrf';

export class SecretKey {
  private constructor(private readonly key: Buffer) {}

  static fromBytes(bytes: Buffer): SecretKey {
    if (bytes.length !== 32) throw new SecretKeyError(`the secret key must be 32 bytes, got ${bytes.length}`);
    return new SecretKey(Buffer.from(bytes));
  }

  /** Parse 64 hex digits or 43 base64url characters. */
  static parse(text: string): SecretKey {
    const t = text.trim();
    if (/^[0-9a-fA-F]{64}$/.test(t)) return SecretKey.fromBytes(Buffer.from(t, 'hex'));
    if (/^[A-Za-z0-9_-]{43}=?$/.test(t)) return SecretKey.fromBytes(Buffer.from(t, 'base64url'));
    throw new SecretKeyError('the secret key must be 64 hex digits or 43 base64url characters (32 bytes)');
  }

  static generate(): SecretKey {
    return new SecretKey(randomBytes(32));
  }

  toText(): string {
    return this.key.toString('base64url');
  }

  derive(purpose: KeyPurpose): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `gatehouse ${purpose}`, 32));
  }
}

export interface KeySource {
  secretKey: string | undefined;
  secretKeyFile: string | undefined;
  dataDir: string;
}

/** Load the key from the environment, a named file, or DATA_DIR/secret.key (created when missing). */
export function loadSecretKey(src: KeySource): { key: SecretKey; origin: string; created: boolean } {
  if (src.secretKey) return { key: SecretKey.parse(src.secretKey), origin: 'GATEHOUSE_SECRET_KEY', created: false };
  if (src.secretKeyFile) {
    const path = resolve(src.secretKeyFile);
    if (!existsSync(path)) throw new SecretKeyError(`secret key file ${path} does not exist`);
    return { key: SecretKey.parse(readFileSync(path, 'utf8')), origin: path, created: false };
  }
  const path = resolve(join(src.dataDir, 'secret.key'));
  if (existsSync(path)) return { key: SecretKey.parse(readFileSync(path, 'utf8')), origin: path, created: false };
  const key = SecretKey.generate();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, key.toText() + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key, origin: path, created: true };
}
