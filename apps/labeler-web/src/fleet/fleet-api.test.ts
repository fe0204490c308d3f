import { describe, expect, it } from 'vitest';
import { SessionExpiredError } from '../api/cloud-api';
import { fetchFleet, FleetUnavailableError } from './fleet-api';

const device = {
  siteId: 'plant-7',
  deviceId: 'aoi-03',
  fleetGroup: 'line-3',
  revoked: false,
  enrolledAt: '2026-11-22T09:00:00.000Z',
  agentVersion: '0.1.0',
  model: { name: 'pcb-aoi', version: '3' },
  provider: 'cpu',
  firstSeenAt: '2026-11-22T10:00:00.000Z',
  lastSeenAt: '2026-11-22T10:05:00.000Z',
  desired: { generation: 2, model: { name: 'pcb-aoi', version: '4', sha256: 'b'.repeat(64) }, rolloutId: 'r-1' },
  reported: null,
  stats: null,
};

/** A fetch that answers every request with `response`, recording the URLs asked for. */
function answering(response: () => Response) {
  const requested: string[] = [];
  const fetchFn: typeof fetch = (input) => {
    requested.push(input instanceof Request ? input.url : input.toString());
    return Promise.resolve(response());
  };
  return { fetchFn, requested };
}

async function problemOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FleetUnavailableError);
  return (error as FleetUnavailableError).message;
}

const never = new AbortController().signal;

describe('fetchFleet', () => {
  it('asks the cloud that served the page for its devices, with their OTA state, in one request checked against the contract', async () => {
    const cloud = answering(() => Response.json({ devices: [device] }));
    expect(await fetchFleet(cloud.fetchFn, never)).toEqual([device]);
    expect(cloud.requested).toEqual(['/api/fleet/devices']);
    const broken = answering(() => Response.json({ devices: [{ ...device, fleetGroup: 7 }] }));
    expect(await problemOf(fetchFleet(broken.fetchFn, never))).toContain('device list this page does not understand (devices.0.fleetGroup');
  });

  it('turns 401 into an expired session, so the page asks to sign in again', async () => {
    const cloud = answering(() => Response.json({ statusCode: 401, error: 'unauthenticated', message: 'sign in first' }, { status: 401 }));
    await expect(fetchFleet(cloud.fetchFn, never)).rejects.toThrow(SessionExpiredError);
  });

  it('says the cloud is unreachable when the request fails', async () => {
    const fetchFn: typeof fetch = () => Promise.reject(new TypeError('Failed to fetch'));
    expect(await problemOf(fetchFleet(fetchFn, never))).toBe('Cannot reach the cloud. Is it running (npm start)?');
  });

  it('says the cloud is unreachable when a proxy in front of it answers 502', async () => {
    const proxy = answering(() => new Response(null, { status: 502, statusText: 'Bad Gateway' }));
    expect(await problemOf(fetchFleet(proxy.fetchFn, never))).toBe('Cannot reach the cloud. Is it running (npm start)?');
  });

  it("shows the cloud's own message when it answers with an error", async () => {
    const body = { statusCode: 503, error: 'database_unavailable', message: 'The database is not reachable.' };
    const cloud = answering(() => Response.json(body, { status: 503 }));
    expect(await problemOf(fetchFleet(cloud.fetchFn, never))).toBe('The cloud answered 503: The database is not reachable.');
  });

  it('names the field of a device list that breaks the contract', async () => {
    const cloud = answering(() => Response.json({ devices: [{ ...device, lastSeenAt: 'yesterday' }] }));
    expect(await problemOf(fetchFleet(cloud.fetchFn, never))).toContain('devices.0.lastSeenAt');
  });

  it('reports an answer that is not JSON', async () => {
    const cloud = answering(() => new Response('<html>Welcome to nginx</html>'));
    expect(await problemOf(fetchFleet(cloud.fetchFn, never))).toBe('The cloud answered with something other than JSON.');
  });

  it('passes an abort through untouched, since nobody is waiting for the answer', async () => {
    const stop = new AbortController();
    // Like the real fetch: pending until its signal aborts.
    const fetchFn: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const request = fetchFleet(fetchFn, stop.signal);
    stop.abort();
    await expect(request).rejects.toMatchObject({ name: 'AbortError' });
  });
});
