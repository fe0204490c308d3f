import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuthService } from './auth.service';
import { ALLOWED_ROLES, type RouteAccess } from './roles';
import type { User } from './user.repository';

export type SignedInRequest = FastifyRequest & { user: User; sessionToken: string };

/** The session token from `Authorization: Bearer`, or from the labeler UI's cookie. */
export function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim() || undefined;
  const cookie = request.headers.cookie
    ?.split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === 'loupe_session');
  return cookie?.[1] ? decodeURIComponent(cookie[1]) : undefined;
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
    const token = sessionToken(request);
    if (!token) throw new UnauthorizedException('sign in first: POST /api/auth/login, then send Authorization: Bearer <token>');
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
