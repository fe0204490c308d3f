import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from '@loupe/service';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RecentlyChecked } from '../caching/recently-checked';
import { HashingSlots } from './hashing-slots';
import { hashPassword, verifyPassword } from './password-hash';
import type { Role } from './roles';
import { EmailTakenError, UserRepository, type User } from './user.repository';

/** Wrong email or password; which one is not said (HTTP 401). */
export class LoginFailedError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('email or password is wrong');
  }
}

// Hashed on a failed lookup too, so an unknown email takes as long as a wrong password.
const DECOY = hashPassword(randomBytes(16).toString('hex'));

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

// Every API call needs its session, and a lookup per call was a third of a
// labeler's round trips to Postgres. So each process trusts a session it
// checked for a few seconds: a sign-out takes effect at once on the process
// that handled it (RecentlyChecked), and on other replicas within this time.
const SESSION_RECHECK_MS = 5_000;
const REMEMBERED_SESSIONS = 10_000;
// A labeler's working day, and then some: they sign in again each morning.
const SESSION_MS = 12 * 3600 * 1000;

/** Sign-in with email and password, and the bearer tokens sessions travel in. */
@Injectable()
export class AuthService {
  private readonly sessions: RecentlyChecked<User>;

  constructor(
    @Inject(UserRepository) private readonly users: UserRepository,
    @Inject(HashingSlots) private readonly hashing: HashingSlots,
    private readonly now: () => number = Date.now,
    private readonly sessionMs = SESSION_MS,
  ) {
    this.sessions = new RecentlyChecked(SESSION_RECHECK_MS, REMEMBERED_SESSIONS, now);
  }

  async login(email: string, password: string): Promise<{ token: string; expiresAt: Date; user: User }> {
    const found = await this.users.findByEmail(email.trim().toLowerCase());
    const stored = found?.passwordHash ?? (await DECOY);
    const matches = await this.hashing.run(() => verifyPassword(password, stored));
    if (!found || !matches) throw new LoginFailedError();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.now() + this.sessionMs);
    await this.users.startSession(found.id, tokenHash(token), expiresAt);
    const { passwordHash: _, ...user } = found;
    return { token, expiresAt, user };
  }

  async authenticate(token: string): Promise<User | undefined> {
    const hash = tokenHash(token);
    return this.sessions.get(hash, async () => {
      const session = await this.users.sessionOf(hash);
      return session && { value: session.user, validUntil: session.expiresAt.getTime() };
    });
  }

  async logout(token: string): Promise<void> {
    const hash = tokenHash(token);
    await this.users.endSession(hash);
    this.sessions.forget(hash);
  }

  async createUser(user: { email: string; name: string; role: Role }, password: string): Promise<User> {
    return this.users.create({ ...user, email: user.email.trim().toLowerCase() }, await this.hashing.run(() => hashPassword(password)));
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
      if (!(error instanceof EmailTakenError)) throw error;
    });
    if (password === undefined) log.warn({ email, password: chosen }, 'created the first admin with this password; keep it safe, or set ADMIN_PASSWORD before the first start');
    else log.info({ email }, 'created the first admin from ADMIN_EMAIL and ADMIN_PASSWORD');
  }
}
