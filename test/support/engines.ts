// Every store test runs on both engines. PostgreSQL comes from GATEHOUSE_TEST_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/test). Without it the PostgreSQL half is skipped with a visible
// message, except in CI (CI=true), where it is mandatory and its absence fails the run.
import pg from 'pg';
import { describe } from 'vitest';

export type EngineName = 'sqlite' | 'postgres';
export const POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probe: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers, else the reason it does not. */
export function postgresProblem(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (err) {
      return (err as Error).message || String(err);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probe;
}

const problem = await postgresProblem();
if (problem && process.env.CI) {
  throw new Error(`PostgreSQL tests are mandatory in CI, but ${POSTGRES_URL} is not reachable: ${problem}`);
}
if (problem) {
  console.warn(`\n!!! PostgreSQL at ${POSTGRES_URL} is not reachable (${problem}): SKIPPING the PostgreSQL tests.\n`);
}

export const ENGINES: EngineName[] = problem ? ['sqlite'] : ['sqlite', 'postgres'];

/** describe() once per engine; the PostgreSQL copy is visibly skipped when PostgreSQL is absent. */
export function describeEachEngine(name: string, body: (engine: EngineName) => void): void {
  describe(`${name} [sqlite]`, () => body('sqlite'));
  if (problem) describe.skip(`${name} [postgres] (skipped: PostgreSQL not reachable)`, () => body('postgres'));
  else describe(`${name} [postgres]`, () => body('postgres'));
}
