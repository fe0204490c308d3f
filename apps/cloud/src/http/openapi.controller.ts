import { Controller, Get, Inject } from '@nestjs/common';
import { z } from 'zod';
import { Public } from '../auth/roles';
import { RouteTable } from './route-table';

@Controller('api/openapi.json')
export class OpenApiController {
  constructor(@Inject(RouteTable) private readonly table: RouteTable) {}

  /** The REST API as OpenAPI 3.1, built from the controllers and their schemas. */
  @Get()
  @Public()
  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.table.routes()) {
      const operation: Record<string, unknown> = {
        summary: route.doc?.summary ?? '',
        'x-roles': route.roles,
        ...(route.roles === 'public' ? { security: [] } : {}),
        ...(route.roles === 'device' ? { security: [{ device: [] }] } : {}),
        ...(route.doc?.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.doc.body, { io: 'input' }) } } } } : {}),
        responses: {
          default: route.doc?.response
            ? { description: 'success', content: { 'application/json': { schema: z.toJSONSchema(route.doc.response) } } }
            : { description: 'success' },
          ...(route.roles === 'public'
            ? {}
            : route.roles === 'device'
              ? { 401: { description: "not an enrolled device's user name and secret" } }
              : { 401: { description: 'not signed in' }, 403: { description: 'the role may not call this' } }),
        },
      };
      (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
    }
    return {
      openapi: '3.1.0',
      info: { title: 'Loupe cloud API', version: '1' },
      components: {
        securitySchemes: {
          session: { type: 'http', scheme: 'bearer' },
          // Enrolled devices: their broker user name and secret, as HTTP Basic.
          device: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ session: [] }],
      paths,
    };
  }
}
