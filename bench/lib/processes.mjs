// What the side-by-side benchmarks share: running node scripts and servers as child processes
// (killed when the runner exits), and writing a result block into docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'gatehouse.js');
export const DOCS = join(ROOT, 'docs', 'benchmarks.md');
export const num = (name, d) => Number(process.env[name] || d);

const children = new Set();
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Run a node script to completion and return its stdout; `passStderr` forwards its stderr. */
export function run(args, env, input = '', { passStderr = false } = {}) {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(c);
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => ((err += d), passStderr && process.stderr.write(d)));
    c.on('exit', (code) => (children.delete(c), code === 0 ? res(out) : rej(new Error(`${args.join(' ')}: ${err || out}`))));
    c.stdin.end(input);
  });
}

/** Start a server script; resolves with the child and the URL its output names (`pattern`, group 1).
 * After the start, the server's stderr goes to ours. */
export function startServer(args, env, pattern) {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(c);
    let buf = '';
    let started = false;
    c.stdout.on('data', (d) => {
      buf += d;
      const m = pattern.exec(buf);
      if (m && !started) (started = true), res({ child: c, url: m[1] });
    });
    c.stderr.on('data', (d) => (started ? process.stderr.write(d) : (buf += d)));
    c.on('exit', (code) => (children.delete(c), started || rej(new Error(`${args.at(-1)} exited ${code}: ${buf}`))));
  });
}

/** Stop servers with SIGTERM and wait for them (a --cpu-prof profile is written at exit). */
export function stopAll(servers) {
  return Promise.all(servers.map(({ child }) => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM'))))));
}

/** Replace the block between `<!-- bench:start NAME -->` and its end marker (or append one). */
export function writeDocsBlock(name, section) {
  if ((process.env.BENCH_WRITE_DOCS ?? '1') === '0') return;
  let doc = readFileSync(DOCS, 'utf8');
  const start = `<!-- bench:start ${name} -->`;
  const end = `<!-- bench:end ${name} -->`;
  const block = `${start}\n${section}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i !== -1 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOCS, doc);
}
