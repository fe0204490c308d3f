import { apiErrorSchema, deviceListResponseSchema, type DeviceDto } from '@loupe/api-contracts';
import type { z } from 'zod';
import { SessionExpiredError } from '../api/cloud-api';

// The page keeps polling; a request the cloud never answers must not stall it.
const REQUEST_TIMEOUT_MS = 10_000;

const UNREACHABLE = 'Cannot reach the cloud. Is it running (npm start)?';

/** The fleet could not be loaded. The message is written for the person looking at the page. */
export class FleetUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetUnavailableError';
  }
}

/**
 * `GET /api/fleet/devices` from the cloud that served this page: every device
 * it enrolled or heard from, with its telemetry and its model update.
 * Rejects as fetchChecked does.
 */
export async function fetchFleet(fetchFn: typeof fetch, signal: AbortSignal): Promise<DeviceDto[]> {
  return (await fetchChecked(fetchFn, '/api/fleet/devices', deviceListResponseSchema, 'device list', signal)).devices;
}

/**
 * One GET, its answer checked against the shared contract. Rejects with
 * SessionExpiredError on 401, FleetUnavailableError on any other failure,
 * or with the abort reason when `signal` aborts.
 */
async function fetchChecked<T>(fetchFn: typeof fetch, path: string, schema: z.ZodType<T>, what: string, signal: AbortSignal): Promise<T> {
  let response: Response;
  let body: string;
  try {
    response = await fetchFn(path, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    body = await response.text();
  } catch (error) {
    if (signal.aborted) throw error;
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new FleetUnavailableError(`The cloud did not answer within ${REQUEST_TIMEOUT_MS / 1000} s.`);
    }
    throw new FleetUnavailableError(UNREACHABLE);
  }
  const json = parseJson(body);
  if (response.status >= 400) throw errorForStatus(response, json?.value);
  if (json === undefined) throw new FleetUnavailableError('The cloud answered with something other than JSON.');

  const result = schema.safeParse(json.value);
  if (result.success) return result.data;
  const problem = result.error.issues[0];
  throw new FleetUnavailableError(
    `The cloud sent a ${what} this page does not understand (${problem?.path.join('.') ?? ''}: ${problem?.message ?? ''}). ` +
      'Reload the page: the cloud may have been updated.',
  );
}

function errorForStatus(response: Response, json: unknown): Error {
  if (response.status === 401) return new SessionExpiredError();
  const apiError = apiErrorSchema.safeParse(json);
  if (apiError.success) {
    return new FleetUnavailableError(`The cloud answered ${response.status}: ${apiError.data.message}`);
  }
  // Without the cloud's own error body, a gateway error comes from a proxy in
  // front of it (Vite's in development) that could not reach it.
  if ([502, 503, 504].includes(response.status)) return new FleetUnavailableError(UNREACHABLE);
  return new FleetUnavailableError(`The cloud answered ${response.status} ${response.statusText}.`);
}

/** The parsed body, or undefined when it is not JSON. */
function parseJson(body: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(body) };
  } catch {
    return undefined;
  }
}
