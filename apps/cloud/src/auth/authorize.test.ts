import { status as GrpcStatus } from '@grpc/grpc-js';
import { grpcStatusOf, httpStatusOf } from '@loupe/service';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize, NotSignedInError, RoleRefusedError, sessionToken, type SessionLookup } from './authorize';
import { ROLES, type Role } from './roles';
import type { User } from './user.repository';

const TOKEN = 'a'.repeat(43);

/** Sessions as AuthService keeps them, one live token per user. */
function sessionsOf(users: Record<string, User>): SessionLookup {
  return { authenticate: (token) => Promise.resolve(users[token]) };
}

const userAs = (role: Role): User => ({ id: `id-${role}`, email: `${role}@loupe.test`, name: role, role });

describe('sessionToken', () => {
  it('reads a bearer token, then the labeler UI’s cookie', () => {
    expect(sessionToken({ authorization: `Bearer ${TOKEN}` })).toEqual({ token: TOKEN });
    expect(sessionToken({ cookie: `theme=dark; loupe_session=${TOKEN}` })).toEqual({ token: TOKEN });
  });

  it('tells a missing token from one no session could have', () => {
    expect(sessionToken({})).toBe('missing');
    expect(sessionToken({ authorization: 'Bearer ' })).toBe('missing');
    expect(sessionToken({ authorization: 'Bearer not a token' })).toBe('malformed');
  });
});

describe('authorize', () => {
  it('refuses a call without a live session as unauthenticated, on both transports', async () => {
    const sessions = sessionsOf({ [TOKEN]: userAs('admin') });
    for (const sent of ['missing', 'malformed', { token: 'b'.repeat(43) }] as const) {
      const refusal = await authorize(sessions, sent, ROLES).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(NotSignedInError);
      expect(httpStatusOf((refusal as NotSignedInError).kind)).toBe(401);
      expect(grpcStatusOf((refusal as NotSignedInError).kind)).toBe(GrpcStatus.UNAUTHENTICATED);
    }
  });

  it('answers the signed-in user exactly when the roles include theirs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROLES), fc.subarray([...ROLES]), async (role, allowed) => {
        const outcome = await authorize(sessionsOf({ [TOKEN]: userAs(role) }), { token: TOKEN }, allowed).catch((error: unknown) => error);
        if (allowed.includes(role)) expect(outcome).toEqual(userAs(role));
        else {
          expect(outcome).toBeInstanceOf(RoleRefusedError);
          expect(httpStatusOf((outcome as RoleRefusedError).kind)).toBe(403);
          expect(grpcStatusOf((outcome as RoleRefusedError).kind)).toBe(GrpcStatus.PERMISSION_DENIED);
        }
      }),
    );
  });

  it('says which roles a call needs, and that no roles close it to everyone', async () => {
    const sessions = sessionsOf({ [TOKEN]: userAs('labeler') });
    await expect(authorize(sessions, { token: TOKEN }, ['engineer', 'admin'])).rejects.toThrow('this needs the role engineer or admin; you are labeler');
    await expect(authorize(sessions, { token: TOKEN }, [])).rejects.toThrow('this route is closed to everyone');
  });
});
