// Digest and Basic against independent client implementations: curl (libcurl) and Python requests.
// curl 7.88 answers the FIRST Digest challenge and computes SHA-512-256 wrongly, so the default order
// (SHA-256 first) is used. python-requests answers the LAST challenge (hence --digest-repeat-first).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST, PATH } from './support/digest-extra.js';
import { describeEachEngine } from './support/engines.js';
import { startOne } from './support/server.js';

const run = promisify(execFile);
const PW = 'correct horse battery';
const UTF8_USER = 'jürgen';
const UTF8_PW = 'pässwört lang genug';

/** curl with -w '%{http_code}' appended to the body: returns both. */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-o', '-', '-w', '%{http_code}', '--max-time', '20', ...args], { encoding: 'utf8' });
  return { status: Number(stdout.slice(-3)), body: stdout.slice(0, -3) };
}

function pythonProblem(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import requests'], { stdio: 'pipe', timeout: 20_000 });
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}
const noPython = pythonProblem();
if (noPython) console.warn(`\n!!! python3 with the requests package is not available (${noPython}): SKIPPING the Python requests interop tests.\n`);

const PY = `
import json, sys, requests
from requests.auth import HTTPDigestAuth, HTTPBasicAuth
base, user, pw = sys.argv[1:4]
def show(r):
    try:
        body = r.json()
    except ValueError:
        body = r.text
    return {"status": r.status_code, "history": [h.status_code for h in r.history],
            "authorization": r.request.headers.get("Authorization"), "body": body,
            "info": r.headers.get("Authentication-Info")}
out = {}
s = requests.Session()
auth = HTTPDigestAuth(user, pw)
out["first"] = show(s.get(base + "${PATH}", auth=auth))
out["second"] = show(s.get(base + "${PATH}", auth=auth))
out["post"] = show(s.post(base + "${PATH}", data=b"hello", auth=auth))
out["wrong"] = show(requests.get(base + "${PATH}", auth=HTTPDigestAuth(user, pw + "x")))
# Given str, requests encodes Basic credentials as Latin-1; bytes are sent as they are (UTF-8 here).
out["basic"] = show(requests.get(base + "/api/basic/resources", auth=HTTPBasicAuth(user.encode(), pw.encode())))
out["basicStr"] = show(requests.get(base + "/api/basic/resources", auth=HTTPBasicAuth(user, pw)))
out["basicWrong"] = show(requests.get(base + "/api/basic/resources", auth=HTTPBasicAuth(user, pw + "x")))
print(json.dumps(out))
`;

interface PyResult {
  status: number;
  history: number[];
  authorization: string | null;
  body: any;
  info: string | null;
}

async function python(base: string, user: string, pw: string): Promise<Record<string, PyResult>> {
  const { stdout } = await run('python3', ['-c', PY, base, user, pw], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout);
}

describeEachEngine('Digest interop', (engine) => {
  let s: Awaited<ReturnType<typeof startOne>>;
  beforeAll(async () => {
    s = await startOne(engine, { flags: FAST });
    await s.addUser('alice', PW);
    await s.addUser(UTF8_USER, UTF8_PW);
  });
  afterAll(async () => s?.close());

  describe('curl', () => {
    it('--digest with the right password → 200 (SHA-256, the first challenge)', async () => {
      const r = await curl(['--digest', '-u', `alice:${PW}`, s.url + PATH]);
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ scheme: 'Digest', algorithm: 'SHA-256', user: { username: 'alice' } });
    });

    it('--digest with a wrong password → 401', async () => {
      const r = await curl(['--digest', '-u', 'alice:wrong password', s.url + PATH]);
      expect(r.status).toBe(401);
    });

    it('--digest with a POST body → 200', async () => {
      const r = await curl(['--digest', '-u', `alice:${PW}`, '--data-binary', 'hello', '-H', 'content-type: text/plain', s.url + PATH]);
      expect(r.status, r.body).toBe(200);
    });

    it('--digest with a UTF-8 username and password → 200', async () => {
      const r = await curl(['--digest', '-u', `${UTF8_USER}:${UTF8_PW}`, s.url + PATH]);
      expect(r.status, r.body).toBe(200);
      expect(JSON.parse(r.body).user.username).toBe(UTF8_USER);
    });

    it('--basic → 200, wrong password → 401, UTF-8 credentials → 200', async () => {
      const ok = await curl(['--basic', '-u', `alice:${PW}`, `${s.url}/api/basic/resources`]);
      expect(ok.status, ok.body).toBe(200);
      expect(JSON.parse(ok.body)).toMatchObject({ scheme: 'Basic', user: { username: 'alice' } });
      expect((await curl(['--basic', '-u', 'alice:wrong password', `${s.url}/api/basic/resources`])).status).toBe(401);
      const utf8 = await curl(['--basic', '-u', `${UTF8_USER}:${UTF8_PW}`, `${s.url}/api/basic/resources`]);
      expect(utf8.status, utf8.body).toBe(200);
      expect(JSON.parse(utf8.body).user.username).toBe(UTF8_USER);
    });
  });

  describe.skipIf(!!noPython)('Python requests', () => {
    let out: Record<string, PyResult>;
    beforeAll(async () => {
      out = await python(s.url, 'alice', PW);
    });

    it('HTTPDigestAuth → 200 after one 401, answering the repeated SHA-256 challenge', () => {
      const first = out.first!;
      expect(first.status, JSON.stringify(first)).toBe(200);
      expect(first.history).toEqual([401]);
      expect(first.body).toMatchObject({ scheme: 'Digest', algorithm: 'SHA-256', qop: 'auth', user: { username: 'alice' } });
      expect(first.authorization).toMatch(/nc=00000001/);
      expect(first.info).toMatch(/rspauth="[0-9a-f]{64}"/);
    });

    it('a second request on the session reuses the nonce with nc=00000002 and works', () => {
      const { first, second } = out as { first: PyResult; second: PyResult };
      expect(second.status, JSON.stringify(second)).toBe(200);
      expect(second.history).toEqual([]); // no new 401 round trip
      expect(second.authorization).toMatch(/nc=00000002/);
      const nonce = (h: string | null) => /nonce="([^"]+)"/.exec(h ?? '')?.[1];
      expect(nonce(second.authorization)).toBe(nonce(first.authorization));
      expect(out.post!.status, JSON.stringify(out.post)).toBe(200);
      expect(out.post!.authorization).toMatch(/nc=00000003/);
    });

    it('a wrong password → 401', () => {
      expect(out.wrong!.status).toBe(401);
    });

    it('HTTPBasicAuth → 200; wrong password → 401', () => {
      expect(out.basic!.status).toBe(200);
      expect(out.basic!.body).toMatchObject({ scheme: 'Basic', user: { username: 'alice' } });
      expect(out.basicStr!.status).toBe(200); // ASCII: Latin-1 and UTF-8 bytes are the same
      expect(out.basicWrong!.status).toBe(401);
    });

    it('UTF-8 credentials: HTTPDigestAuth → 200; HTTPBasicAuth with UTF-8 bytes → 200, Latin-1 → 401', async () => {
      const u = await python(s.url, UTF8_USER, UTF8_PW);
      expect(u.first!.status, JSON.stringify(u.first)).toBe(200);
      expect(u.first!.body.user.username).toBe(UTF8_USER);
      expect(u.basic!.status, JSON.stringify(u.basic)).toBe(200);
      expect(u.basic!.body.user.username).toBe(UTF8_USER);
      // requests' default Latin-1 form of a non-ASCII password is a different byte string: refused
      // (catalogue BA-04, no Latin-1 fallback).
      expect(u.basicStr!.status).toBe(401);
    });
  });
});
