// Start a listening server for a Gatehouse: used by `gatehouse serve` and by the tests.
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../gatehouse.js';
import { buildApp } from './app.js';

export interface Running {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function listen(g: Gatehouse): Promise<Running> {
  const app = await buildApp(g);
  await app.listen({ port: g.settings.port, host: g.settings.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : g.settings.port;
  const host = g.settings.host.includes(':') ? `[${g.settings.host}]` : g.settings.host === '0.0.0.0' ? '127.0.0.1' : g.settings.host;
  // Used (nonce, nc) pairs are kept only while their nonce lives.
  const purge = setInterval(() => {
    g.store.digestNonces.purgeExpired(g.clock.now()).catch(() => {});
  }, 60_000);
  purge.unref();
  return {
    app,
    url: `http://${host}:${port}`,
    close: async () => {
      clearInterval(purge);
      await app.close();
    },
  };
}
