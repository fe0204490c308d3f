import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password-hash';

const CHEAP = { N: 2 ** 10, r: 8, p: 1 };

describe('password hashing', () => {
  it('accepts the password it hashed and nothing else', async () => {
    const stored = await hashPassword('correct horse battery staple', CHEAP);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('correct horse battery staple', 'plain-text')).toBe(false);
  });

  it('salts every hash, and records its cost', async () => {
    const [first, second] = await Promise.all([hashPassword('same', CHEAP), hashPassword('same', CHEAP)]);
    expect(first).not.toBe(second);
    expect(first.startsWith('scrypt$1024$8$1$')).toBe(true);
  });

  it('hashes at the default cost', async () => {
    expect(await hashPassword('x')).toMatch(/^scrypt\$131072\$8\$1\$/);
  });
});
