import { apiErrorSchema } from '@loupe/api-contracts';
import type { z } from 'zod';

const REQUEST_TIMEOUT_MS = 10_000;

/** The session ended: the page should ask the person to sign in again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your session has expired. Sign in again to go on.');
    this.name = 'SessionExpiredError';
  }
}

/** The cloud refused a request. `reason` is the cloud's own sentence, when it sent one. */
export class CloudRefusedError extends Error {
  readonly status: number;
  readonly reason: string | undefined;

  constructor(status: number, reason: string | undefined) {
    super(reason === undefined ? `The cloud answered ${status}.` : `The cloud answered ${status}: ${reason}`);
    this.name = 'CloudRefusedError';
    this.status = status;
    this.reason = reason;
  }
}

export interface CloudRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** Sent as JSON; without it the request has no body. */
  body?: unknown;
}

/**
 * One request to the cloud that served this page, its answer checked against
 * `schema` (or ignored without one). Rejects with SessionExpiredError on 401,
 * CloudRefusedError on any other refusal, and an Error with a message for
 * people when the cloud is unreachable or answers something unexpected.
 */
export function callCloud(fetchFn: typeof fetch, request: CloudRequest): Promise<void>;
export function callCloud<T>(fetchFn: typeof fetch, request: CloudRequest, schema: z.ZodType<T>): Promise<T>;
export async function callCloud<T>(fetchFn: typeof fetch, { method, path, body }: CloudRequest, schema?: z.ZodType<T>): Promise<T | void> {
  let response: Response;
  try {
    // Called as a plain function: called as a method, the browser's fetch
    // throws "Illegal invocation" (its `this` must not be another object).
    response = await fetchFn(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new Error('Cannot reach the cloud. Check the network and try again; what it already accepted is saved.');
  }
  if (response.status === 401) throw new SessionExpiredError();
  const json: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  if (response.status >= 400) {
    const apiError = apiErrorSchema.safeParse(json);
    throw new CloudRefusedError(response.status, apiError.success ? apiError.data.message : undefined);
  }
  if (!schema) return;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error('The cloud sent something this page does not understand. Reload the page: the cloud may have been updated.');
  return parsed.data;
}

/**
 * Rethrows the cloud's refusals with one of `statuses` as the caller's own
 * error, so a page can tell an expected refusal (a lost lease, a taken name)
 * from a failure; anything else passes unchanged.
 */
export async function translateRefusals<T>(call: Promise<T>, statuses: readonly number[], translate: (refusal: CloudRefusedError) => Error): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof CloudRefusedError && statuses.includes(error.status)) throw translate(error);
    throw error;
  }
}
