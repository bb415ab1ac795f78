// The `gatehouse` command: serve, migrate, user, keys, client, consent.
import { readFileSync } from 'node:fs';
import { loadSettings, SETTINGS, SettingsError, type Settings } from '../config/settings.js';
import { SecretKeyError } from '../crypto/secret-key.js';
import { StartupError } from '../gatehouse.js';
import { parseArgs, UsageError, type FlagKind } from './args.js';
import { clientCommand, CLIENT_FLAGS } from './client.js';
import { consentCommand } from './consent.js';
import { keysCommand, KEYS_FLAGS } from './keys.js';
import { serveCommand } from './serve.js';
import { migrateCommand, userCommand, USER_FLAGS } from './user.js';

const SETTING_FLAGS: Record<string, FlagKind> = Object.fromEntries(SETTINGS.map((s) => [s.flag, s.kind === 'bool' ? 'bool' : 'string']));

export const HELP = `Usage: gatehouse <command> [options]

Commands:
  serve                        start the server (what \`npm start\` runs)
  migrate                      apply pending database migrations and exit
  user add <username> [--password <pw> | --password-stdin] [--email E] [--name N]
  user passwd <username> [--password <pw> | --password-stdin]
  user list [--json]
  user disable <username>      refuse every sign-in of the user
  user enable <username>
  user remove <username>       delete the user and its stored secrets
  user unlock <username>       clear the user's failed-login counter and lock
  keys list [--json]           signing keys with their state (next, active, retired)
  keys rotate [--now]          schedule the next key to sign once it has been published for
                               GATEHOUSE_KEY_PUBLISH_DELAY, retire the active key, publish a new next
                               key (--now: sign with it at once; an emergency)
  keys revoke <kid>            remove a key at once: tokens it signed stop working (a leaked key)
  client add <client_id> [--public] --grant <type>… [--redirect-uri <uri>…] [--scope "<scopes>"]
             [--name N] [--no-consent] [--token-format jwt|opaque] [--token-ttl S]
             [--refresh-ttl S] [--post-logout-redirect-uri <uri>…] [--json]
                               register an OAuth client; prints its secret once. Grant types:
                               authorization_code, refresh_token, client_credentials, and the
                               legacy password and implicit (off unless given here)
  client list [--json]         every client
  client show <client_id> [--json]
  client remove <client_id>
  client rotate-secret <client_id>   a new secret; the old one stops working
  consent list <username> [--json]   the clients a user has allowed
  consent revoke <username> <client_id>
                               withdraw it and revoke that client's refresh tokens for the user
  help                         show this text

Every command takes the settings below as flags; each also comes from its environment variable.
${SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${s.env}${s.default !== undefined && !s.secret ? ` (default ${s.default})` : ''}\n      ${s.describe}`).join('\n')}
`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): string;
  stdinIsTty: boolean;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readStdin: () => readFileSync(0, 'utf8'),
  stdinIsTty: Boolean(process.stdin.isTTY),
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      io.out(HELP);
      return command ? 0 : 2;
    }
    if (command === '--version') {
      io.out(`${version()}\n`);
      return 0;
    }
    const known = { ...SETTING_FLAGS, ...(command === 'user' ? USER_FLAGS : {}), ...(command === 'keys' ? KEYS_FLAGS : {}), ...(command === 'client' ? CLIENT_FLAGS : {}), ...(command === 'consent' ? { json: 'bool' as const } : {}) };
    const { positionals, flags } = parseArgs(rest, known);
    const settings: Settings = loadSettings(flags);
    switch (command) {
      case 'serve':
        if (positionals.length) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
        return await serveCommand(settings, io);
      case 'migrate':
        return await migrateCommand(settings, io);
      case 'user':
        return await userCommand(settings, positionals, flags, io);
      case 'keys':
        return await keysCommand(settings, positionals, flags, io);
      case 'client':
        return await clientCommand(settings, positionals, flags, io);
      case 'consent':
        return await consentCommand(settings, positionals, flags, io);
      default:
        throw new UsageError(`unknown command "${command}"; try gatehouse help`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`gatehouse: ${err.message}\n`);
      return 2;
    }
    if (err instanceof SettingsError || err instanceof StartupError || err instanceof SecretKeyError) {
      io.err(`gatehouse: ${err.message}\n`);
      return 1;
    }
    io.err(`gatehouse: unexpected error: ${(err as Error).message}\n`);
    return 1;
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
