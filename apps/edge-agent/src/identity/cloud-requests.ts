import { setTimeout } from 'node:timers/promises';
import { Backoff } from '@loupe/service';
import type { Logger } from 'pino';

/** The cloud answered, and the answer means trying again will not help (a 4xx). */
export class CloudRefusedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'CloudRefusedError';
  }
}

export interface RetryOptions {
  backoff?: Backoff;
  sleep?: (ms: number) => Promise<void>;
  /** Each request's own limit, so a cloud that accepts and never answers is retried. */
  requestTimeoutMs?: number;
}

/**
 * Sends a request until the cloud answers it, waiting longer after each
 * failure (jittered, capped): a box installed while the site's network is
 * still down must not give up, nor hammer the cloud when it returns. A 4xx
 * is final and throws CloudRefusedError with the cloud's message.
 */
export async function requestUntilAnswered(
  what: string,
  send: (signal: AbortSignal) => Promise<Response>,
  log: Logger,
  { backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000 }), sleep = (ms) => setTimeout(ms), requestTimeoutMs = 15_000 }: RetryOptions = {},
): Promise<unknown> {
  for (;;) {
    let failure: string;
    try {
      const response = await send(AbortSignal.timeout(requestTimeoutMs));
      const text = await response.text();
      if (response.ok) return JSON.parse(text) as unknown;
      const message = messageOf(text) ?? response.statusText;
      if (response.status < 500) throw new CloudRefusedError(`the cloud refused ${what} (${response.status}): ${message}`, response.status);
      failure = `${response.status} ${message}`;
    } catch (error) {
      if (error instanceof CloudRefusedError) throw error;
      failure = describe(error);
    }
    const retryInMs = backoff.next();
    log.warn({ err: failure, retryInMs }, `${what} failed; trying again`);
    await sleep(retryInMs);
  }
}

function messageOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    return typeof body.message === 'string' ? body.message : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
