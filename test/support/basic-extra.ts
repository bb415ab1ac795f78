// Helpers for the Basic and throttle tests: raw requests over a socket (so a test controls every byte
// of the header block), Basic tokens from exact bytes, response comparison, and a capture of what the
// server's logger writes to standard output.
import fs from 'node:fs';
import net from 'node:net';
import { expect } from 'vitest';
import { request, type RawResponse } from './http.js';

export const BASIC_PATH = '/api/basic/resources';
export const DIGEST_PATH = '/api/digest/resources';

/** Cheap argon2 for tests that are not about the argon2 parameters. */
export const FAST_ARGON2 = { 'argon2-memory': '1024', 'argon2-time': '1' } as const;

/** `Basic <base64 of bytes>` where the bytes are given exactly (for encodings other than UTF-8). */
export function basicBytes(bytes: Buffer): string {
  return 'Basic ' + bytes.toString('base64');
}

/** GET the Basic resource with one Authorization value (or none). */
export function getBasic(url: string, authorization?: string, headers: Record<string, string | string[]> = {}): Promise<RawResponse> {
  return request(`${url}${BASIC_PATH}`, { headers: authorization === undefined ? headers : { ...headers, authorization } });
}

/** The headers of a response without those that legitimately differ between two responses. */
export function comparable(r: RawResponse): { status: number; headers: string[]; body: string } {
  const headers: string[] = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const name = r.rawHeaders[i]!.toLowerCase();
    if (name === 'date') continue;
    headers.push(`${name}: ${r.rawHeaders[i + 1]}`);
  }
  return { status: r.status, headers, body: r.body };
}

/** A 401 with exactly one Basic challenge for `realm` and a JSON error body. */
export function expectBasicChallenge(r: RawResponse, realm = 'gatehouse'): void {
  expect(r.status).toBe(401);
  expect(r.all('www-authenticate')).toEqual([`Basic realm="${realm}", charset="UTF-8"`]);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.json()).toMatchObject({ error: 'unauthorized' });
}

export interface RawSocketResponse {
  status: number;
  head: string;
  body: string;
}

/** Send a request whose header block is written byte for byte (`lines` without CRLF). */
export function rawRequest(url: string, lines: string[]): Promise<RawSocketResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => (chunks.length ? finish() : reject(err)));
    socket.on('close', finish);
    let done = false;
    function finish() {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const head = end === -1 ? text : text.slice(0, end);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!m) return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(m[1]), head, body: end === -1 ? '' : text.slice(end + 4) });
    }
    socket.write([`GET ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close', ...lines, '', ''].join('\r\n'));
  });
}

/** Collect everything written to file descriptor 1 (where the server's logger writes) while `fn`
 * runs, without letting it through. Log lines that are JSON come back parsed. */
export async function captureStdout(fn: () => Promise<void>): Promise<string[]> {
  const out: string[] = [];
  const target = fs as unknown as {
    write: (...args: unknown[]) => unknown;
    writeSync: (...args: unknown[]) => unknown;
  };
  const origWrite = target.write;
  const origWriteSync = target.writeSync;
  const text = (data: unknown) => (typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
  target.writeSync = function (fd: unknown, data: unknown, ...rest: unknown[]) {
    if (fd !== 1) return origWriteSync.call(fs, fd, data, ...rest);
    out.push(text(data));
    return Buffer.byteLength(text(data));
  };
  target.write = function (fd: unknown, data: unknown, ...rest: unknown[]) {
    if (fd !== 1) return origWrite.call(fs, fd, data, ...rest);
    out.push(text(data));
    const cb = rest.find((x) => typeof x === 'function') as ((err: null, n: number) => void) | undefined;
    if (cb) process.nextTick(cb, null, Buffer.byteLength(text(data)));
    return undefined;
  };
  try {
    await fn();
    // Let an asynchronous logger drain.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    target.write = origWrite;
    target.writeSync = origWriteSync;
  }
  return out.join('').split('\n').filter(Boolean);
}

/** A log line as text, with any serialised Buffer ({ type: 'Buffer', data: [...] }) turned back into
 * the bytes it holds, so that a header logged as a byte array is still found. */
export function readableLogLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'Buffer' && Array.isArray(o.data)) parts.push(Buffer.from(o.data as number[]).toString('latin1'));
      else Object.values(o).forEach(walk);
    }
  };
  walk(parsed);
  return `${line}\n${parts.join('\n')}`;
}
