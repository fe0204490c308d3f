import { HttpException } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by @SignInRoute(). */
    signIn?: boolean;
  }
}

/** Marks the sign-in route, whose attempts are throttled per client address and per account. */
export const SignInRoute = () => RouteConfig({ signIn: true });

export interface SignInLimits {
  attemptsPerAddress: number;
  attemptsPerAccount: number;
  windowMs: number;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Throttles sign-in with @fastify/rate-limit (registered on `fastify`
 * before this): per client address before the body is even read, then per
 * account once its email is known. Counts are per process.
 */
export function throttleSignIns(fastify: FastifyInstance, limits: SignInLimits, refused: Counter<'reason'>): void {
  const perAddress = fastify.createRateLimit({ max: limits.attemptsPerAddress, timeWindow: limits.windowMs });
  const perAccount = fastify.createRateLimit({ max: limits.attemptsPerAccount, timeWindow: limits.windowMs, keyGenerator: accountOf });
  fastify.addHook('onRoute', (route) => {
    if (route.config?.signIn !== true) return;
    route.onRequest = [...hooks(route.onRequest), (request, reply) => check(perAddress, request, reply, 'from this address', 'address')];
    route.preHandler = [
      ...hooks(route.preHandler),
      (request, reply) => (accountOf(request) ? check(perAccount, request, reply, 'for this account', 'account') : Promise.resolve()),
    ];
  });

  async function check(limiter: Limiter, request: FastifyRequest, reply: FastifyReply, whose: string, reason: string): Promise<void> {
    const limit = await limiter(request);
    if (limit.isAllowed || !limit.isExceeded) return;
    refused.inc({ reason });
    void reply.header('retry-after', String(limit.ttlInSeconds));
    throw new HttpException(`too many sign-in attempts ${whose}: at most ${limit.max} per ${limits.windowMs / 1000} s; try again in ${limit.ttlInSeconds} s`, 429);
  }
}

/** The account an attempt is for: its email as sign-in compares it, or '' before a body names one. */
function accountOf(request: FastifyRequest): string {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : '';
}

function hooks<T>(existing: T | T[] | undefined): T[] {
  if (existing === undefined) return [];
  return Array.isArray(existing) ? existing : [existing];
}
