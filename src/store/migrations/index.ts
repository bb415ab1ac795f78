// Versioned migrations, in code. A new migration is a new file here and a new entry below;
// never edit one that has shipped.
import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';
import * as m002 from './002-tokens-and-sessions.js';
import * as m003 from './003-oauth.js';
import * as m004 from './004-oidc.js';
import * as m005 from './005-digest-claim-log.js';
import * as m006 from './006-change-log.js';

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': m001,
  '002-tokens-and-sessions': m002,
  '003-oauth': m003,
  '004-oidc': m004,
  '005-digest-claim-log': m005,
  '006-change-log': m006,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
