// `gatehouse user …` and `gatehouse migrate`.
import { InvalidEmail, UserNotFound, type User } from '../accounts/accounts.js';
import { WeakPassword } from '../accounts/password-policy.js';
import { InvalidUsername } from '../accounts/usernames.js';
import type { Settings } from '../config/settings.js';
import { UsernameTakenError } from '../store/users.js';
import { UsageError, type FlagKind } from './args.js';
import type { Io } from './main.js';
import { withTool } from './tool.js';
import { createGatehouse } from '../gatehouse.js';

export const USER_FLAGS: Record<string, FlagKind> = {
  password: 'string',
  'password-stdin': 'bool',
  email: 'string',
  'email-verified': 'bool',
  name: 'string',
  json: 'bool',
};

const ACCOUNT_ERRORS = [UserNotFound, InvalidUsername, WeakPassword, InvalidEmail, UsernameTakenError];

export async function migrateCommand(settings: Settings, io: Io): Promise<number> {
  const g = await createGatehouse(settings, { role: 'tool' });
  await g.close();
  io.out(g.migrationsApplied.length ? `applied: ${g.migrationsApplied.join(', ')}\n` : 'the database is up to date\n');
  return 0;
}

export async function userCommand(settings: Settings, args: string[], flags: Record<string, string | boolean>, io: Io): Promise<number> {
  const [action, username, ...extra] = args;
  if (!action) throw new UsageError('user needs an action: add, passwd, list, disable, enable, remove, unlock');
  if (action !== 'list' && !username) throw new UsageError(`user ${action} needs a username`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const password = ['add', 'passwd'].includes(action) ? readPassword(flags, io, action === 'passwd') : undefined;

  return withTool(settings, io, ACCOUNT_ERRORS, async (g) => {
    const a = g.accounts;
    switch (action) {
      case 'add': {
        const user = await a.create({ username: username!, password, email: str(flags.email), emailVerified: flags['email-verified'] === true, displayName: str(flags.name) });
        io.out(`added user ${user.username} (${user.id})${password === undefined ? ' without a password: set one with gatehouse user passwd' : ''}\n`);
        break;
      }
      case 'passwd':
        await a.setPassword(username!, password!);
        io.out(`password of ${username} changed\n`);
        break;
      case 'list':
        io.out(formatList(await a.list(), flags.json === true));
        break;
      case 'disable':
      case 'enable':
        await a.setDisabled(username!, action === 'disable');
        io.out(`user ${username} ${action}d\n`);
        break;
      case 'remove':
        await a.remove(username!);
        io.out(`user ${username} removed\n`);
        break;
      case 'unlock':
        await a.unlock(username!);
        io.out(`user ${username} unlocked\n`);
        break;
      default:
        throw new UsageError(`unknown user action "${action}"`);
    }
  });
}

function str(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function readPassword(flags: Record<string, string | boolean>, io: Io, required: boolean): string | undefined {
  if (typeof flags.password === 'string' && flags['password-stdin'] === true) throw new UsageError('use --password or --password-stdin, not both');
  if (typeof flags.password === 'string') return flags.password;
  if (flags['password-stdin'] === true) {
    // One trailing newline ends the line; it is not part of the password.
    return io.readStdin().replace(/\r?\n$/, '');
  }
  if (required) throw new UsageError('give the new password with --password <pw> or --password-stdin');
  return undefined;
}

function formatList(users: User[], json: boolean): string {
  if (json) return JSON.stringify(users, null, 2) + '\n';
  if (users.length === 0) return 'no users\n';
  const rows = [['USERNAME', 'EMAIL', 'NAME', 'STATUS', 'CREATED']].concat(
    users.map((u) => [u.username, u.email ?? '', u.displayName ?? '', u.disabled ? 'disabled' : 'active', u.createdAt]),
  );
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd()).join('\n') + '\n';
}
