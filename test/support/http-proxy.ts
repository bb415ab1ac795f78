// An HTTP proxy in front of an authorization server, for the resource-server tests: it counts the
// requests by path (how often the JWKS or introspection was really fetched), and can be put down
// (connections reset) or made to stall (requests accepted, never answered) to show failing closed.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxyMode = 'up' | 'down' | 'stall';

export class CountingProxy {
  /** Requests forwarded or refused, by path without the query. */
  readonly counts = new Map<string, number>();
  mode: ProxyMode = 'up';
  /** Where requests go (set once the server behind has a port). */
  target = '';
  url = '';
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly sockets = new Set<Socket>();

  async start(): Promise<string> {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  count(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  /** Change the mode; going down or up drops every open connection. */
  set(mode: ProxyMode): void {
    this.mode = mode;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    this.counts.set(path, this.count(path) + 1);
    if (this.mode === 'down') return void req.socket.destroy();
    if (this.mode === 'stall') return; // the socket is dropped by set() or close()
    const t = new URL(this.target);
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.rawHeaders);
      r.pipe(res);
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  }
}
