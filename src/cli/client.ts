// `gatehouse client add|list|show|remove|rotate-secret`.
import type { Settings } from '../config/settings.js';
import { ClientNotFound, InvalidClientRegistration, type Client } from '../oauth/clients.js';
import { ClientIdTakenError } from '../store/clients.js';
import { multi, UsageError, type FlagKind } from './args.js';
import type { Io } from './main.js';
import { withTool } from './tool.js';

export const CLIENT_FLAGS: Record<string, FlagKind> = {
  public: 'bool',
  grant: 'multi',
  'redirect-uri': 'multi',
  'post-logout-redirect-uri': 'multi',
  'backchannel-logout-uri': 'string',
  scope: 'string',
  name: 'string',
  'token-ttl': 'string',
  'refresh-ttl': 'string',
  consent: 'bool',
  'token-format': 'string',
  json: 'bool',
};

const ERRORS = [ClientNotFound, InvalidClientRegistration, ClientIdTakenError];

function seconds(v: string | boolean | undefined, flag: string): number | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 10 || Number(v) > 31536000) throw new UsageError(`--${flag} takes seconds, from 10 to 31536000`);
  return Number(v);
}

function describe(c: Client): string {
  return [
    `client_id      ${c.clientId}`,
    `name           ${c.name}`,
    `type           ${c.type}`,
    `grant types    ${c.grantTypes.join(' ')}`,
    `redirect URIs  ${c.redirectUris.join(' ') || '-'}`,
    `logout URIs    ${c.postLogoutRedirectUris.join(' ') || '-'}`,
    `back-channel   ${c.backchannelLogoutUri ?? '-'}`,
    `scope          ${c.scope.join(' ') || '-'}`,
    `consent        ${c.requireConsent ? 'asked' : 'not asked (first-party)'}`,
    `access tokens  ${c.tokenFormat}${c.accessTokenTtl ? `, ${c.accessTokenTtl} s` : ''}`,
    '',
  ].join('\n');
}

export async function clientCommand(settings: Settings, args: string[], flags: Record<string, string | boolean>, io: Io): Promise<number> {
  const [action, clientId, ...extra] = args;
  const actions = ['add', 'list', 'show', 'remove', 'rotate-secret'];
  if (!action || !actions.includes(action)) throw new UsageError(`client needs an action: ${actions.join(', ')}`);
  if (action !== 'list' && !clientId) throw new UsageError(`client ${action} needs a client_id`);
  if (extra.length || (action === 'list' && clientId)) throw new UsageError(`unexpected argument "${extra[0] ?? clientId}"`);
  const format = flags['token-format'];
  if (format !== undefined && format !== 'jwt' && format !== 'opaque') throw new UsageError('--token-format is jwt or opaque');
  return withTool(settings, io, ERRORS, async (g) => {
    const json = flags.json === true;
    switch (action) {
      case 'add': {
        const { client, secret, warnings } = await g.clients.create({
          clientId: clientId!,
          name: typeof flags.name === 'string' ? flags.name : undefined,
          public: flags.public === true,
          grantTypes: multi(flags.grant, true),
          redirectUris: multi(flags['redirect-uri']),
          postLogoutRedirectUris: multi(flags['post-logout-redirect-uri']),
          backchannelLogoutUri: typeof flags['backchannel-logout-uri'] === 'string' ? flags['backchannel-logout-uri'] : undefined,
          scope: typeof flags.scope === 'string' ? flags.scope : undefined,
          accessTokenTtl: seconds(flags['token-ttl'], 'token-ttl'),
          refreshTokenTtl: seconds(flags['refresh-ttl'], 'refresh-ttl'),
          requireConsent: flags.consent === false ? false : undefined,
          tokenFormat: format as 'jwt' | 'opaque' | undefined,
        });
        for (const w of warnings) io.err(`warning: ${w}\n`);
        if (json) io.out(JSON.stringify({ ...client, ...(secret ? { client_secret: secret } : {}) }, null, 2) + '\n');
        else io.out(`added client ${client.clientId}\n${describe(client)}${secret ? `client_secret  ${secret}\n(shown once: only its hash is stored; \`gatehouse client rotate-secret ${client.clientId}\` makes a new one)\n` : ''}`);
        break;
      }
      case 'list': {
        const all = await g.clients.list();
        if (json) io.out(JSON.stringify(all, null, 2) + '\n');
        else io.out(all.length ? all.map((c) => `${c.clientId}  ${c.type}  ${c.grantTypes.join(',')}`).join('\n') + '\n' : 'no clients\n');
        break;
      }
      case 'show': {
        const found = (await g.clients.list()).find((c) => c.clientId === clientId);
        if (!found) throw new ClientNotFound(clientId!);
        io.out(json ? JSON.stringify(found, null, 2) + '\n' : describe(found));
        break;
      }
      case 'remove':
        await g.clients.remove(clientId!);
        io.out(`client ${clientId} removed (its codes and consents with it)\n`);
        break;
      default: {
        const secret = await g.clients.rotateSecret(clientId!);
        io.out(json ? JSON.stringify({ client_id: clientId, client_secret: secret }) + '\n' : `new client_secret for ${clientId}: ${secret}\n(the old secret no longer works)\n`);
      }
    }
  });
}
