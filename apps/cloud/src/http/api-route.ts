import { BadRequestException, SetMetadata } from '@nestjs/common';
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
