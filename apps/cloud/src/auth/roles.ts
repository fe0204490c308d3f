import { SetMetadata } from '@nestjs/common';

export const ROLES = ['labeler', 'reviewer', 'engineer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ALLOWED_ROLES = Symbol('AllowedRoles');

/**
 * Who may call a route: people with one of these roles (a session), anyone
 * (`public`), or enrolled devices signing in with their broker credentials
 * (`device`, see fleet/identity/device-route.ts).
 */
export type RouteAccess = Role[] | 'public' | 'device';

/** The roles that may call a route. Every route names them, or is marked @Public() or @DeviceRoute(). */
export const Allow = (...roles: Role[]) => SetMetadata(ALLOWED_ROLES, roles);

/** A route anyone may call without signing in: login, health, metrics. */
export const Public = () => SetMetadata(ALLOWED_ROLES, 'public');

export const ANY_ROLE: Role[] = [...ROLES];
