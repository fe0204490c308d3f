import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuthService } from './auth.service';
import { authorize, sessionToken } from './authorize';
import { ALLOWED_ROLES, type RouteAccess } from './roles';
import type { User } from './user.repository';

export type SignedInRequest = FastifyRequest & { user: User; sessionToken: string };

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
    const sent = sessionToken(request.headers);
    request.user = await authorize(this.auth, sent, allowed ?? []);
    // Always a token here: authorize refuses the others.
    if (typeof sent === 'object') request.sessionToken = sent.token;
    return true;
  }
}
