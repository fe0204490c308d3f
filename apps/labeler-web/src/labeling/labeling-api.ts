import {
  apiErrorSchema,
  claimResponseSchema,
  projectListResponseSchema,
  submitResponseSchema,
  type ClaimResponse,
  type ProjectDto,
} from '@loupe/api-contracts';
import type { z } from 'zod';

const REQUEST_TIMEOUT_MS = 10_000;

/** The session ended: the page should ask the person to sign in again. */
export class SessionExpiredError extends Error {
  constructor() {
    super('Your session has expired. Sign in again to go on labeling.');
    this.name = 'SessionExpiredError';
  }
}

/** The lease on the sample on screen ran out (a long break): take the next one. */
export class LeaseExpiredError extends Error {
  constructor() {
    super('This sample was held too long and went back to the queue. Here is the next one.');
    this.name = 'LeaseExpiredError';
  }
}

/** The calls the queue screen makes, each checked against the shared contract. */
export class LabelingApi {
  private readonly fetchFn: typeof fetch;

  // Called as a method, the browser's fetch throws "Illegal invocation":
  // it must not see this object as its `this`.
  constructor(fetchFn: typeof fetch) {
    this.fetchFn = (input, init) => fetchFn(input, init);
  }

  async projects(): Promise<ProjectDto[]> {
    return (await this.call('GET', '/api/projects', undefined, projectListResponseSchema)).projects;
  }

  claim(projectId: string): Promise<ClaimResponse> {
    return this.call('POST', `/api/projects/${projectId}/claims`, {}, claimResponseSchema);
  }

  async submit(sampleId: string, token: string, className: string, spentMs: number): Promise<void> {
    await this.call('POST', `/api/claims/${sampleId}/submit`, { token, className, spentMs: Math.round(spentMs) }, submitResponseSchema);
  }

  async skip(sampleId: string, token: string): Promise<void> {
    await this.call('POST', `/api/claims/${sampleId}/skip`, { token });
  }

  async heartbeat(sampleId: string, token: string): Promise<void> {
    await this.call('POST', `/api/claims/${sampleId}/heartbeat`, { token });
  }

  private async call<T>(method: string, path: string, body?: unknown, schema?: z.ZodType<T>): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchFn(path, {
        method,
        credentials: 'same-origin',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch {
      throw new Error('Cannot reach the cloud. Check the network; your answers so far are saved.');
    }
    if (response.status === 401) throw new SessionExpiredError();
    if (response.status === 409) throw new LeaseExpiredError();
    const json: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (response.status >= 400) {
      const apiError = apiErrorSchema.safeParse(json);
      throw new Error(apiError.success ? `The cloud answered ${response.status}: ${apiError.data.message}` : `The cloud answered ${response.status}.`);
    }
    if (!schema) return undefined as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error('The cloud sent something this page does not understand. Reload the page: the cloud may have been updated.');
    return parsed.data;
  }
}
