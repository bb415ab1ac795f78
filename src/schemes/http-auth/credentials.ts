// RFC 9110 §11: the Authorization field. credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
// A parser for both forms, strict enough that no odd input reaches a scheme's logic.

export class MalformedCredentials extends Error {}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// tchar (RFC 9110 §5.6.2) as a lookup table: the parameter parser tests every character.
const IS_TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") IS_TCHAR[c.charCodeAt(0)] = 1;
const isTchar = (code: number) => code < 128 && IS_TCHAR[code] === 1;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface Credentials {
  /** Lower-cased: the scheme name is case-insensitive (RFC 9110 §11.1). */
  scheme: string;
  rest: string;
}

export function splitCredentials(value: string): Credentials {
  const v = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const sp = v.search(/[ \t]/);
  const scheme = sp === -1 ? v : v.slice(0, sp);
  if (!TCHAR.test(scheme)) throw new MalformedCredentials('bad auth-scheme');
  return { scheme: scheme.toLowerCase(), rest: sp === -1 ? '' : v.slice(sp).replace(/^[ \t]+/, '') };
}

export function parseToken68(rest: string): string {
  if (!TOKEN68.test(rest)) throw new MalformedCredentials('not a token68');
  return rest;
}

/** Parse `#auth-param` into a map with lower-cased names. Duplicate names are an error. */
export function parseAuthParams(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = rest.length;
  const skipOws = () => {
    while (i < n && (rest[i] === ' ' || rest[i] === '\t')) i++;
  };
  while (i < n) {
    skipOws();
    if (rest[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const start = i;
    while (i < n && isTchar(rest.charCodeAt(i))) i++;
    const name = rest.slice(start, i).toLowerCase();
    if (!name) throw new MalformedCredentials('expected a parameter name');
    skipOws();
    if (rest[i] !== '=') throw new MalformedCredentials(`expected "=" after ${name}`);
    i++;
    skipOws();
    let value = '';
    if (rest[i] === '"') {
      i++;
      let closed = false;
      let run = i; // start of the current run of plain characters, copied in one slice
      while (i < n) {
        const code = rest.charCodeAt(i);
        if (code === 0x5c) {
          if (i + 1 >= n) break;
          value += rest.slice(run, i) + rest[i + 1];
          i += 2;
          run = i;
        } else if (code === 0x22) {
          value += rest.slice(run, i);
          i++;
          closed = true;
          break;
        } else {
          if ((code < 0x20 && code !== 0x09) || code === 0x7f) throw new MalformedCredentials('control character in quoted-string');
          i++;
        }
      }
      if (!closed) throw new MalformedCredentials('unterminated quoted-string');
    } else {
      const vs = i;
      while (i < n && isTchar(rest.charCodeAt(i))) i++;
      value = rest.slice(vs, i);
      if (!value) throw new MalformedCredentials(`empty value for ${name}`);
    }
    if (out.has(name)) throw new MalformedCredentials(`parameter ${name} given twice`);
    out.set(name, value);
    skipOws();
    if (i < n && rest[i] !== ',') throw new MalformedCredentials('expected "," between parameters');
  }
  return out;
}

/** Render a parameter as a quoted-string (RFC 9110 §5.6.4). */
export function quote(value: string): string {
  return value.includes('"') || value.includes('\\') ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}
