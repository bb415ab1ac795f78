// Start real Gatehouse servers on real ports for tests. Several servers can share one database
// (to act as instances of one deployment) by sharing a TestDatabase.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Clock } from '../../src/clock.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { createGatehouse, type Gatehouse } from '../../src/gatehouse.js';
import { listen, type Running } from '../../src/http/serve.js';
import { POSTGRES_URL, type EngineName } from './engines.js';

export interface TestDatabase {
  engine: EngineName;
  url: string;
  dataDir: string;
  secretKey: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(engine: EngineName): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const secretKey = randomBytes(32).toString('hex');
  if (engine === 'sqlite') {
    return {
      engine, dataDir, secretKey,
      url: `sqlite:${join(dataDir, 'gatehouse.db')}`,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const sep = POSTGRES_URL.includes('?') ? '&' : '?';
  return {
    engine, dataDir, secretKey,
    url: `${POSTGRES_URL}${sep}schema=${schema}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestServer {
  url: string;
  g: Gatehouse;
  running: Running;
  settings: Settings;
  addUser(username: string, password: string, extra?: { email?: string; displayName?: string }): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Setting flags (as on the command line, e.g. { 'digest-nonce-ttl': '30' }). */
  flags?: Record<string, string | boolean>;
  clock?: Clock;
}

export function testSettings(db: TestDatabase, flags: Record<string, string | boolean> = {}): Settings {
  return loadSettings(
    { port: '0', host: '127.0.0.1', 'database-url': db.url, 'data-dir': db.dataDir, 'secret-key': db.secretKey, 'log-level': 'silent', ...flags },
    {},
  );
}

export async function startServer(db: TestDatabase, options: StartOptions = {}): Promise<TestServer> {
  const settings = testSettings(db, options.flags);
  const g = await createGatehouse(settings, options.clock ? { clock: options.clock } : {});
  const running = await listen(g);
  return {
    url: running.url,
    g,
    running,
    settings,
    addUser: async (username, password, extra = {}) => {
      await g.accounts.create({ username, password, ...extra });
    },
    close: async () => {
      await running.close();
      await g.close();
    },
  };
}

/** A database and one server on it, for the common case. */
export async function startOne(engine: EngineName, options: StartOptions = {}): Promise<TestServer & { db: TestDatabase }> {
  const db = await createTestDatabase(engine);
  const server = await startServer(db, options);
  return {
    ...server,
    db,
    close: async () => {
      await server.close();
      await db.drop();
    },
  };
}
