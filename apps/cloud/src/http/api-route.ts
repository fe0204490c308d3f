import { BadRequestException, SetMetadata, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

export const API_ROUTE = Symbol('ApiRoute');

export interface ApiRouteDoc {
  summary: string;
  body?: z.ZodType;
  response?: z.ZodType;
}

/** Describes a route for the OpenAPI document served at /api/openapi.json. */
export const ApiRoute = (doc: ApiRouteDoc) => SetMetadata(API_ROUTE, doc);

/** Checks a request body against its schema; a 400 names every field to fix. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  throw new BadRequestException(problems.join('; '));
}

/**
 * A pipe that checks a path or query parameter against its schema, for
 * `@Param('version', validParam(versionNumberTextSchema))`: a 400 names the
 * parameter and what it must be, before the value reaches a query.
 */
export function validParam<T extends z.ZodType>(schema: T): PipeTransform<unknown, z.infer<T>> {
  return {
    transform(value: unknown, metadata: ArgumentMetadata): z.infer<T> {
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      const where = metadata.type === 'query' ? 'query parameter' : 'path parameter';
      throw new BadRequestException(`${where} ${metadata.data ?? ''}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    },
  };
}
