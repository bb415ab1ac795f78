// application/x-www-form-urlencoded bodies (the login forms, later the OAuth endpoints). A parameter
// sent twice is refused (RFC 6749 §3.1), as is a body that is not text.
import type { FastifyInstance } from 'fastify';

class BadForm extends Error {
  readonly statusCode = 400;
}

export function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(text)) {
    if (name in out) throw new BadForm(`The parameter "${name}" is sent more than once.`);
    out[name] = value;
  }
  return out;
}

export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
