// `gatehouse serve`: start, print where it listens and what to try, stop cleanly on a signal.
import { createGatehouse } from '../gatehouse.js';
import type { Settings } from '../config/settings.js';
import { listen } from '../http/serve.js';
import type { Io } from './main.js';

export async function serveCommand(settings: Settings, io: Io): Promise<number> {
  const g = await createGatehouse(settings);
  let running;
  try {
    running = await listen(g);
  } catch (err) {
    await g.close();
    throw err;
  }
  const { url } = running;
  const users = (await g.store.users.list()).length;
  io.out(
    [
      `Gatehouse is listening on ${url}`,
      `  database    ${g.store.describe}${g.migrationsApplied.length ? ` (migrations applied: ${g.migrationsApplied.join(', ')})` : ''}`,
      `  secret key  ${g.keyOrigin}${g.keyCreated ? ' (generated now: back it up; every instance needs the same key)' : ''}`,
      `  signing     ${g.keys.signing().alg} key ${g.keys.signing().kid} (JWKS at ${url}/.well-known/jwks.json)`,
      `  digest      realm "${settings.digestRealm}", ${settings.digestAlgorithms.join(', ')}`,
      '',
      'Try it:',
      ...(users === 0 ? ['  npx gatehouse user add alice --password-stdin <<< "correct horse battery staple"'] : []),
      `  curl -i ${url}/api/public`,
      `  curl -i -u alice ${url}/api/basic/resources`,
      `  curl -i --digest -u alice ${url}/api/digest/resources`,
      `  curl -s -X POST ${url}/auth/login -d username=alice --data-urlencode "password=correct horse battery staple"`,
      `  curl -i ${url}/api/jwt/resources -H "Authorization: Bearer <access_token>"`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out('Gatehouse is stopping.\n');
  await running.close();
  await g.close();
  return 0;
}
