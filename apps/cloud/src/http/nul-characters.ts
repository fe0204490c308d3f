import { BadRequestException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Where in the request a U+0000 is: `body.reason`, `query.group`, `path parameter name`. */
export function findNulCharacter(request: Pick<FastifyRequest, 'params' | 'query' | 'body'>): string | undefined {
  return (
    firstNul(request.params, 'path parameter', ' ') ??
    firstNul(request.query, 'query parameter', ' ') ??
    // A streamed body (a package tar) is read by its route, not here.
    (isPlainJson(request.body) ? firstNul(request.body, 'body', '.') : undefined)
  );
}

/**
 * Refuses, before any route sees it, a request with U+0000 in a path or
 * query parameter or anywhere in a JSON body, keys included: Postgres stores
 * no NUL in text or jsonb, so such a value would fail deep in a query as a
 * 500. One rule at the edge for every field, present and future.
 */
export function refuseNulCharacters(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  const where = findNulCharacter(request);
  done(where === undefined ? undefined : new BadRequestException(`${where} holds a NUL character (U+0000), which no field can store: send text without it`));
}

const isPlainJson = (value: unknown) => value !== null && typeof value === 'object' && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype);

/** Walks strings and keys without recursion, so a deeply nested body cannot overflow the stack. */
function firstNul(root: unknown, label: string, separator: string): string | undefined {
  const pending: [unknown, string][] = [[root, label]];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const childPath = `${path}${separator}${key}`;
        if (key.includes('\u0000')) return `${path}${separator}key ${JSON.stringify(key)}`;
        pending.push([child, childPath]);
      }
    }
  }
  return undefined;
}
