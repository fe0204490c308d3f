import { applyDecorators, type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, UnauthorizedException, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ALLOWED_ROLES } from '../../auth/roles';
import { DeviceCredentials, type DeviceIdentity } from './device-credentials';

export type DeviceRequest = FastifyRequest & { device: DeviceIdentity };

/** User name and password from `Authorization: Basic` (RFC 7617); the user name cannot hold a colon. */
function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice('Basic '.length).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

/** Lets through enrolled devices that send their broker user name and secret. */
@Injectable()
export class DeviceCredentialsGuard implements CanActivate {
  constructor(@Inject(DeviceCredentials) private readonly credentials: DeviceCredentials) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<DeviceRequest>();
    const given = basicCredentials(request.headers.authorization);
    const device = given && (await this.credentials.verify(given.username, given.password));
    if (!device) {
      void context.switchToHttp().getResponse<FastifyReply>().header('www-authenticate', 'Basic realm="loupe devices", charset="UTF-8"');
      throw new UnauthorizedException(
        given
          ? 'these device credentials are wrong or were revoked; enroll the device again with a new token'
          : "send the device's user name and secret (from its enrollment) as HTTP Basic credentials",
      );
    }
    request.device = device;
    return true;
  }
}

/**
 * A route for enrolled devices, not people: the session guard lets it pass
 * and the device guard checks the credentials. Both come together, so a
 * device route can never be left unguarded.
 */
export const DeviceRoute = () => applyDecorators(SetMetadata(ALLOWED_ROLES, 'device'), UseGuards(DeviceCredentialsGuard));
