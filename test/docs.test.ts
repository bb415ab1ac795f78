// The docs follow the code: every setting is documented in the README, and every source file is
// placed in ARCHITECTURE.md.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config/settings.js';

const readme = readFileSync('README.md', 'utf8');
const architecture = readFileSync('ARCHITECTURE.md', 'utf8');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('documentation', () => {
  it.each(SETTINGS.map((s) => [s.env, s.flag]))('README documents %s and --%s', (env, flag) => {
    expect(readme).toContain(`\`${env}\``);
    expect(readme).toContain(`\`--${flag}\``);
  });

  it('README names the test command and every CLI command', () => {
    expect(readme).toContain('npm test');
    for (const cmd of ['serve', 'migrate', 'user add', 'user passwd', 'user list', 'user disable', 'user remove', 'user unlock', 'keys list', 'keys rotate', 'keys revoke', 'client add', 'client list', 'client show', 'client remove', 'client rotate-secret', 'consent list', 'consent revoke']) {
      expect(readme).toContain(`gatehouse ${cmd}`);
    }
  });

  it('ARCHITECTURE.md places every source file', () => {
    const missing = files('src')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => relative('src', f).split('/').pop()!)
      .filter((name) => !architecture.includes(name.replace(/\.ts$/, '')));
    expect(missing).toEqual([]);
  });
});
