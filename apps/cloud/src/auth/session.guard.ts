import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuthService } from './auth.service';
import { ALLOWED_ROLES, type RouteAccess } from './roles';
import type { User } from './user.repository';

export type SignedInRequest = FastifyRequest & { user: User; sessionToken: string };

// Tokens are 32 random bytes in base64url (AuthService.login); anything else cannot be one.
const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * The session token from `Authorization: Bearer`, or from the labeler UI's
 * cookie: `missing`, `malformed` (no token looks like that, so no lookup is
 * spent on it), or the token. Nothing is decoded: a token has no characters
 * that need it.
 */
export function sessionToken(request: Pick<FastifyRequest, 'headers'>): { token: string } | 'missing' | 'malformed' {
  const header = request.headers.authorization;
  const sent = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : cookieValue(request.headers.cookie, 'loupe_session');
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
 * Runs before every route: public routes pass, device routes are left to
 * their own guard (which every @DeviceRoute() carries), the rest need a live
 * session whose role the route allows. A route that names no roles is
 * refused to everyone, so a forgotten rule fails closed.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const allowed = this.reflector.getAllAndOverride<RouteAccess | undefined>(ALLOWED_ROLES, [context.getHandler(), context.getClass()]);
    if (allowed === 'public' || allowed === 'device') return true;
    const request = context.switchToHttp().getRequest<SignedInRequest>();
    const sent = sessionToken(request);
    if (sent === 'missing') throw new UnauthorizedException('sign in first: POST /api/auth/login, then send Authorization: Bearer <token>');
    if (sent === 'malformed') throw new UnauthorizedException('the session token (Authorization: Bearer or the loupe_session cookie) is malformed; sign in again');
    const { token } = sent;
    const user = await this.auth.authenticate(token);
    if (!user) throw new UnauthorizedException('your session has expired or was ended; sign in again');
    if (!allowed?.includes(user.role)) {
      throw new ForbiddenException(allowed ? `this needs the role ${allowed.join(' or ')}; you are ${user.role}` : 'this route is closed to everyone');
    }
    request.user = user;
    request.sessionToken = token;
    return true;
  }
}
