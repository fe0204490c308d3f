import { Readable } from 'node:stream';
import { DomainError } from '@loupe/service';
import { UnsupportedMediaTypeException } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by @StreamedBody(). */
    streamedBody?: boolean;
  }
}

/**
 * Marks a route whose body is handed to it as a stream, unread: the route's
 * guards decide before a byte of it is read, so an anonymous client can
 * send as much as it likes and the cloud holds none of it.
 */
export const StreamedBody = () => RouteConfig({ streamedBody: true });

/** The body grew past the limit (HTTP 413). */
export class BodyTooLargeError extends DomainError {
  readonly kind = 'too_large';
  constructor(limit: StreamedBodyLimit) {
    super(`the body is larger than ${limit.setting} (${limit.maxBytes} bytes)`);
  }
}

export interface StreamedBodyLimit {
  maxBytes: number;
  /** The setting that raises it, for the message. */
  setting: string;
}

/**
 * Takes bodies of these content types only on routes marked @StreamedBody(),
 * and hands them over as a stream that fails with BodyTooLargeError past the
 * limit; every other route refuses them (415) without reading them.
 */
export function acceptStreamedBodies(fastify: FastifyInstance, contentTypes: string[], limit: StreamedBodyLimit): void {
  fastify.addContentTypeParser(contentTypes, (request: FastifyRequest, payload, done) => {
    if (request.routeOptions.config.streamedBody !== true) {
      done(new UnsupportedMediaTypeException(`${request.method} ${request.url} takes no ${request.headers['content-type']} body; send JSON as application/json`), undefined);
      return;
    }
    if (Number(request.headers['content-length']) > limit.maxBytes) {
      done(new BodyTooLargeError(limit), undefined);
      return;
    }
    // Lazy: nothing is read until the route reads it.
    done(null, Readable.from(capped(payload, limit)));
  });
}

async function* capped(payload: Readable, limit: StreamedBodyLimit): AsyncGenerator<Buffer> {
  let bytes = 0;
  let tooLarge = false;
  try {
    // Not destroyed when the route stops early: destroying a request closes its socket before the answer is out.
    for await (const chunk of payload.iterator({ destroyOnReturn: false })) {
      bytes += (chunk as Buffer).length;
      tooLarge = bytes > limit.maxBytes;
      if (tooLarge) throw new BodyTooLargeError(limit);
      yield chunk as Buffer;
    }
  } finally {
    // A route that stopped early (a refusal) still answers once the rest is read and dropped; past the limit, the connection goes instead.
    if (!payload.readableEnded) {
      if (tooLarge) payload.destroy();
      else payload.resume();
    }
  }
}
