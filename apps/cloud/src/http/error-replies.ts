import type { FastifyError, FastifyReply } from 'fastify';
import { apiError } from './api-exception.filter';

// Fastify's own words for what it refuses before a route runs, said as what to do instead.
const ADVICE: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'the body is larger than this route takes (JSON bodies: 1 MiB at most)',
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    'this route takes no body of that content-type: send JSON as application/json (a model package goes as application/x-tar to POST /api/models)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the body is not as long as its content-length header says',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the content-type says JSON but the body is empty: send a JSON object, or no content-type',
};

/** What to tell the client for an error Fastify raised before the route (Nest hands it on as the HttpException's cause). */
export function fastifyAdvice(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? ADVICE[code] : undefined;
}

/** Requests the router cannot even read: a path with broken percent-encoding (Fastify's frameworkErrors). */
export function replyToUnreadableUrl(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  void reply.status(400).send(apiError(400, `${error.message}: encode the path as UTF-8 with complete %XX escapes`));
}
