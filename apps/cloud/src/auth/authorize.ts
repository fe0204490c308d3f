import type { IncomingHttpHeaders } from 'node:http';
import { DomainError } from '@loupe/service';
import type { Role } from './roles';
import type { User } from './user.repository';

/** No session, or one that has ended (HTTP 401, gRPC UNAUTHENTICATED). */
export class NotSignedInError extends DomainError {
  readonly kind = 'unauthenticated';
}

/** A live session whose role the call does not allow (HTTP 403, gRPC PERMISSION_DENIED). */
export class RoleRefusedError extends DomainError {
  readonly kind = 'forbidden';
}

/** A session token as a call sent it: `missing`, `malformed` (no token looks like that, so no lookup is spent on it), or the token. */
export type SentToken = { token: string } | 'missing' | 'malformed';

/** What authorize needs of the sessions: AuthService, whose lookups are cached. */
export interface SessionLookup {
  authenticate(token: string): Promise<User | undefined>;
}

// Tokens are 32 random bytes in base64url (AuthService.login); anything else cannot be one.
const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The session token from `Authorization: Bearer` (an HTTP header or gRPC
 * metadata), or from the labeler UI's cookie. Nothing is decoded: a token
 * has no characters that need it.
 */
export function sessionToken(headers: Pick<IncomingHttpHeaders, 'authorization' | 'cookie'>): SentToken {
  const header = headers.authorization;
  const sent = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : cookieValue(headers.cookie, 'loupe_session');
  if (!sent) return 'missing';
  return SESSION_TOKEN.test(sent) ? { token: sent } : 'malformed';
}

function cookieValue(cookies: string | undefined, name: string): string | undefined {
  for (const pair of cookies?.split(';') ?? []) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return undefined;
}

/**
 * The one check of who calls and whether their role may, for REST routes
 * (SessionGuard) and gRPC services alike: the signed-in user, or a
 * DomainError each transport answers in its own terms. No roles means
 * closed to everyone, so a forgotten rule fails closed.
 */
export async function authorize(sessions: SessionLookup, sent: SentToken, roles: readonly Role[]): Promise<User> {
  if (sent === 'missing') throw new NotSignedInError('sign in first: POST /api/auth/login, then send Authorization: Bearer <token>');
  if (sent === 'malformed') throw new NotSignedInError('the session token (Authorization: Bearer or the loupe_session cookie) is malformed; sign in again');
  const user = await sessions.authenticate(sent.token);
  if (!user) throw new NotSignedInError('your session has expired or was ended; sign in again');
  if (!roles.includes(user.role)) {
    throw new RoleRefusedError(roles.length > 0 ? `this needs the role ${roles.join(' or ')}; you are ${user.role}` : 'this route is closed to everyone');
  }
  return user;
}
