import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hashMosquittoPassword, verifyMosquittoPassword } from './mosquitto-password';

describe('Mosquitto password hashes', () => {
  it('accepts the secret it hashed and nothing else, with a fresh salt each time', async () => {
    const [first, second] = await Promise.all([hashMosquittoPassword('s3cret'), hashMosquittoPassword('s3cret')]);
    expect(first).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(first).not.toBe(second);
    expect(await verifyMosquittoPassword('s3cret', first)).toBe(true);
    expect(await verifyMosquittoPassword('s3cret!', first)).toBe(false);
  });

  it('refuses malformed hashes instead of throwing', async () => {
    for (const hash of ['', 'plain', '$6$abc$def', '$7$x$c2FsdA==$a2V5', '$7$101$c2FsdA==$a2V5']) {
      expect(await verifyMosquittoPassword('s3cret', hash)).toBe(false);
    }
  });

  it('reads what the real mosquitto_passwd writes', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'loupe-passwd-'));
    try {
      const file = join(directory, 'passwd');
      await writeFile(file, '');
      await promisify(execFile)('/usr/bin/mosquitto_passwd', ['-b', file, 'plant-7/aoi-01', 'from-the-tool']);
      const [username, hash = ''] = (await readFile(file, 'utf8')).trim().split(':');
      expect(username).toBe('plant-7/aoi-01');
      expect(await verifyMosquittoPassword('from-the-tool', hash)).toBe(true);
      expect(await verifyMosquittoPassword('something-else', hash)).toBe(false);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
