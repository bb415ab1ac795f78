// Start a listening server for a Gatehouse: used by `gatehouse serve` and by the tests.
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../gatehouse.js';
import { startMaintenance } from '../maintenance.js';
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
  const url = `http://${host}:${port}`;
  // With port 0 the default issuer (http://HOST:0) names no real address: use the one we got.
  const guessed = `http://${host}:0`;
  if (g.settings.port === 0 && g.settings.issuer === guessed) {
    if (g.settings.accessTokenAudience === `${guessed}/api`) g.settings.accessTokenAudience = `${url}/api`;
    g.settings.issuer = url;
  }
  const stop = startMaintenance(g, (err) => app.log.warn({ err: { message: (err as Error).message } }, 'maintenance failed; retrying later'));
  return {
    app,
    url,
    close: async () => {
      await app.close();
      await stop();
    },
  };
}
