import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

// Mosquitto 2.0's password-file format, as `mosquitto_passwd` writes it:
// `$7$<iterations>$<salt, base64>$<PBKDF2-HMAC-SHA512 of the password, base64>`,
// 12 bytes of salt, a 64-byte key and 101 iterations by default. The
// iteration count matters little here: device secrets are 32 random bytes,
// not passwords a person could guess.
const SCHEME = '7';
const ITERATIONS = 101;
const SALT_BYTES = 12;
const KEY_BYTES = 64;

function derive(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(password, salt, iterations, KEY_BYTES, 'sha512', (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** A hash for a Mosquitto password file (and for checking HTTP sign-ins with the same secret). */
export async function hashMosquittoPassword(password: string, iterations = ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, iterations);
  return `$${SCHEME}$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches a `$7$` hash; false for anything malformed. */
export async function verifyMosquittoPassword(password: string, hash: string): Promise<boolean> {
  const [empty, scheme, iterations, salt, key] = hash.split('$');
  const rounds = Number(iterations);
  if (empty !== '' || scheme !== SCHEME || !Number.isInteger(rounds) || rounds < 1 || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  if (expected.length !== KEY_BYTES) return false;
  return timingSafeEqual(await derive(password, Buffer.from(salt, 'base64'), rounds), expected);
}
