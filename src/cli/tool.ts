// Running one CLI command against the database: open Gatehouse as a tool, run, report the errors a
// user can fix as "gatehouse: <message>" with exit code 1, and always close.
import type { Settings } from '../config/settings.js';
import { createGatehouse, type Gatehouse } from '../gatehouse.js';
import type { Io } from './main.js';

type ErrorClass = new (...args: never[]) => Error;

export async function withTool(settings: Settings, io: Io, userErrors: ErrorClass[], work: (g: Gatehouse) => Promise<void>): Promise<number> {
  const g = await createGatehouse(settings, { role: 'tool' });
  try {
    await work(g);
    return 0;
  } catch (err) {
    if (userErrors.some((E) => err instanceof E)) {
      io.err(`gatehouse: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await g.close();
  }
}
