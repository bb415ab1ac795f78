// A small argument parser: --name value, --name=value, --flag, --no-flag, and positionals.
export class UsageError extends Error {}

/** 'multi': may repeat; the values are kept in order, joined by newlines (see multi()). */
export type FlagKind = 'string' | 'bool' | 'multi';

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

/** --flag=true / --flag=false (and yes/no, 1/0): a yes/no flag's value is a boolean, never a string
 * that a command could mistake for "not given". */
function yesNo(name: string, value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new UsageError(`--${name} takes no value, or true / false (got "${value}")`);
}

export function parseArgs(argv: string[], known: Record<string, FlagKind>): Parsed {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | boolean | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (!(name in known) && name.startsWith('no-') && known[name.slice(3)] === 'bool' && value === undefined) {
      name = name.slice(3);
      value = false;
    }
    const kind = known[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'bool') {
      flags[name] = value === undefined ? true : yesNo(name, value);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    const prev = flags[name];
    flags[name] = kind === 'multi' && typeof prev === 'string' ? `${prev}\n${value}` : value;
  }
  return { positionals, flags };
}

/** The values of a 'multi' flag (also split at commas when `commas`). */
export function multi(value: string | boolean | undefined, commas = false): string[] {
  if (typeof value !== 'string') return [];
  return value.split('\n').flatMap((v) => (commas ? v.split(',') : [v])).map((v) => v.trim()).filter(Boolean);
}
