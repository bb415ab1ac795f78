// OpenID Connect Back-Channel Logout 1.0 §2.5: when a login session ends, every client it signed in
// to (with a registered backchannel_logout_uri) gets a logout token POSTed to it, naming the sid and
// sub. Deliveries run in parallel, each with a short timeout, and are not retried: a client that is
// down hears nothing (§2.8 leaves retries to the OP; the session is over either way).
import type { Clients } from '../../oauth/clients.js';
import type { Store } from '../../store/store.js';
import type { IdTokens } from '../id-token.js';
import { sidOf } from '../sid.js';

/** How long a logout waits for each client's back-channel endpoint. */
export const BACKCHANNEL_TIMEOUT_MS = 2000;

export interface BackchannelDeps {
  store: Store;
  clients: Clients;
  idTokens: IdTokens;
  timeoutMs: number;
}

export interface Delivery {
  clientId: string;
  ok: boolean;
}

export async function notifyLogout(sessionIdHash: string, deps: BackchannelDeps): Promise<Delivery[]> {
  const sid = sidOf(sessionIdHash);
  const rows = await deps.store.sessionClients.take(sid);
  const out = await Promise.all(
    rows.map(async (row): Promise<Delivery | undefined> => {
      const uri = (await deps.clients.find(row.client_id))?.backchannel_logout_uri;
      if (!uri) return undefined;
      const token = await deps.idTokens.logoutToken(row.client_id, row.user_id, sid);
      try {
        const r = await fetch(uri, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ logout_token: token }),
          redirect: 'manual',
          signal: AbortSignal.timeout(deps.timeoutMs),
        });
        await r.body?.cancel();
        return { clientId: row.client_id, ok: r.status === 200 || r.status === 204 };
      } catch {
        return { clientId: row.client_id, ok: false };
      }
    }),
  );
  return out.filter((d): d is Delivery => d !== undefined);
}
