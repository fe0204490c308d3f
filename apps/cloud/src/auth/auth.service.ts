import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { hashPassword, verifyPassword } from './password-hash';
import type { Role } from './roles';
import type { User, UserRepository } from './user.repository';

/** Wrong email or password; which one is not said (HTTP 401). */
export class LoginFailedError extends Error {
  constructor() {
    super('email or password is wrong');
    this.name = 'LoginFailedError';
  }
}

// Hashed on a failed lookup too, so an unknown email takes as long as a wrong password.
const DECOY = hashPassword(randomBytes(16).toString('hex'));

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Sign-in with email and password, and the bearer tokens sessions travel in. */
export class AuthService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessionMs: number,
  ) {}

  async login(email: string, password: string): Promise<{ token: string; expiresAt: Date; user: User }> {
    const found = await this.users.findByEmail(email.trim().toLowerCase());
    const matches = await verifyPassword(password, found?.passwordHash ?? (await DECOY));
    if (!found || !matches) throw new LoginFailedError();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.sessionMs);
    await this.users.startSession(found.id, tokenHash(token), expiresAt);
    const { passwordHash: _, ...user } = found;
    return { token, expiresAt, user };
  }

  authenticate(token: string): Promise<User | undefined> {
    return this.users.userOfSession(tokenHash(token));
  }

  logout(token: string): Promise<void> {
    return this.users.endSession(tokenHash(token));
  }

  async createUser(user: { email: string; name: string; role: Role }, password: string): Promise<User> {
    return this.users.create({ ...user, email: user.email.trim().toLowerCase() }, await hashPassword(password));
  }

  /**
   * Makes sure the configured admin exists, at every start. Without a
   * configured password, a first start makes one up and logs it once.
   */
  async ensureAdmin(email: string, password: string | undefined, log: Logger): Promise<void> {
    if (await this.users.findByEmail(email)) return;
    const chosen = password ?? randomBytes(12).toString('base64url');
    await this.createUser({ email, name: 'Administrator', role: 'admin' }, chosen).catch((error: unknown) => {
      // Another replica created it first.
      if (!(error instanceof Error && error.name === 'EmailTakenError')) throw error;
    });
    if (password === undefined) log.warn({ email, password: chosen }, 'created the first admin with this password; keep it safe, or set ADMIN_PASSWORD before the first start');
    else log.info({ email }, 'created the first admin from ADMIN_EMAIL and ADMIN_PASSWORD');
  }
}
