import { Inject, Injectable, RequestMethod } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ALLOWED_ROLES, type RouteAccess } from '../auth/roles';
import { API_ROUTE, type ApiRouteDoc } from './api-route';

export interface RouteEntry {
  method: string;
  /** In OpenAPI form: `/api/claims/{sampleId}/submit`. */
  path: string;
  roles: RouteAccess | undefined;
  doc: ApiRouteDoc | undefined;
}

/**
 * Every route the cloud serves, with who may call it, read from the
 * controllers themselves: the OpenAPI document and the role tests use it,
 * so neither can drift from the code.
 */
@Injectable()
export class RouteTable {
  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  routes(): RouteEntry[] {
    const routes: RouteEntry[] = [];
    for (const controller of this.discovery.getControllers()) {
      const metatype = controller.metatype;
      const instance: unknown = controller.instance;
      if (!metatype || !instance) continue;
      const base = this.reflector.get<string>('path', metatype);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as (...args: unknown[]) => unknown;
        const path = this.reflector.get<string | undefined>('path', handler);
        if (path === undefined) continue;
        routes.push({
          method: RequestMethod[this.reflector.get<RequestMethod>('method', handler)],
          path: `/${[base, path].filter((part) => part && part !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}'),
          roles: this.reflector.getAllAndOverride<RouteAccess | undefined>(ALLOWED_ROLES, [handler, metatype]),
          doc: this.reflector.get<ApiRouteDoc | undefined>(API_ROUTE, handler),
        });
      }
    }
    return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  }
}
