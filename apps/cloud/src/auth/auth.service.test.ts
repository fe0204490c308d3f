import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthService } from './auth.service';
import { HashingSlots } from './hashing-slots';
import type { User, UserRepository } from './user.repository';

const ADA: User = { id: '6a1f4f0e-8d5e-4c8b-9a53-2f0c7a1d2b3c', email: 'ada@example.com', name: 'Ada', role: 'labeler' };

/** Sessions in memory, counting lookups. */
function fakeUsers(sessionEndsAt: number) {
  const sessions = new Map<string, { user: User; expiresAt: Date }>();
  let lookups = 0;
  const users = {
    sessionOf(tokenHash: string) {
      lookups++;
      const session = sessions.get(tokenHash);
      return Promise.resolve(session && session.expiresAt.getTime() > clock.now ? session : undefined);
    },
    endSession(tokenHash: string) {
      sessions.delete(tokenHash);
      return Promise.resolve();
    },
  } as unknown as UserRepository;
  const clock = { now: 0 };
  const signIn = (tokenHash: string) => sessions.set(tokenHash, { user: ADA, expiresAt: new Date(sessionEndsAt) });
  return { users, clock, signIn, lookups: () => lookups };
}

describe('AuthService sessions', () => {
  it('looks a session up at most every few seconds, ends it at once on sign-out, and never past its expiry', async () => {
    const hash = createHash('sha256').update('token-1').digest('hex');
    const fake = fakeUsers(12_000);
    const auth = new AuthService(fake.users, new HashingSlots({ concurrent: 1, waiting: 0 }), () => fake.clock.now, 60_000);
    fake.signIn(hash);

    expect(await auth.authenticate('token-1')).toEqual(ADA);
    fake.clock.now = 4_000;
    expect(await auth.authenticate('token-1')).toEqual(ADA);
    expect(fake.lookups()).toBe(1);
    fake.clock.now = 5_001;
    expect(await auth.authenticate('token-1')).toEqual(ADA);
    expect(fake.lookups()).toBe(2);

    // Checked at 5 001, so remembered until 10 001 at most; the session itself ends at 12 000.
    fake.clock.now = 11_000;
    expect(await auth.authenticate('token-1')).toEqual(ADA);
    expect(fake.lookups()).toBe(3);
    fake.clock.now = 12_000;
    expect(await auth.authenticate('token-1')).toBeUndefined();

    fake.signIn(hash);
    fake.clock.now = 0;
    expect(await auth.authenticate('token-1')).toEqual(ADA);
    // Signed out on this process: refused at once, though remembered a moment ago.
    await auth.logout('token-1');
    expect(await auth.authenticate('token-1')).toBeUndefined();
    expect(await auth.authenticate('unknown')).toBeUndefined();
  });

  it('does not let a check that was in flight during a sign-out keep the session alive', async () => {
    const hash = createHash('sha256').update('token-2').digest('hex');
    const fake = fakeUsers(60_000);
    fake.signIn(hash);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sessionOf = fake.users.sessionOf.bind(fake.users);
    let first = true;
    fake.users.sessionOf = async (tokenHash: string) => {
      const session = await sessionOf(tokenHash);
      if (first) {
        first = false;
        await held;
      }
      return session;
    };
    const auth = new AuthService(fake.users, new HashingSlots({ concurrent: 1, waiting: 0 }), () => fake.clock.now, 60_000);

    const inFlight = auth.authenticate('token-2');
    await auth.logout('token-2');
    release();
    await inFlight;
    expect(await auth.authenticate('token-2')).toBeUndefined();
  });
});
