import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInAsAdmin } from '../testing/sign-in';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';

interface Route {
  method: string;
  path: string;
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** Path segments a client can put on the wire: encoded text, and the fragments that broke parsers before. */
const segment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom(
    '%00',
    'a%00b',
    '%E0%A4%A',
    '%',
    '%ZZ',
    '..',
    '%2e%2e',
    '-1',
    '0',
    '1e30',
    '99999999999999999999',
    '2147483648',
    '0x10',
    '%207',
    'NaN',
    'Infinity',
    '00000000-0000-0000-0000-000000000000',
    'pcb-aoi',
    'x'.repeat(5_000),
  ),
);

const queryString = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('format', 'group', 'notes', 'metrics', 'parentVersion', 'directory', 'devicePort'), fc.string({ maxLength: 8 })), segment), {
    maxLength: 4,
  })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([key, value]) => `${encodeURIComponent(key)}=${value}`).join('&')}`));

const cookie = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('loupe_session=%E0%A4%A', 'loupe_session=', 'loupe_session', '=;=;', 'loupe_session=a=b', `loupe_session=${'x'.repeat(8_000)}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((value) => `loupe_session=${value.replace(/[\r\n]/g, '')}`),
);

/** Bodies as JSON of any shape (deep, NUL-laden, huge numbers), as broken JSON, and as other content types. */
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((value) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(value) ?? 'null') })),
  fc
    .record({ email: fc.string(), name: fc.string(), version: fc.oneof(fc.integer(), fc.double(), fc.bigInt().map(String)), reason: fc.string(), token: fc.string(), className: fc.string() }, { requiredKeys: [] })
    .map((value) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(value)) })),
  fc.constantFrom('{"a":', '[[[[[[', '{"version":1e400}', '{"reason":"\\u0000"}', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, '').map((text) => ({ type: 'application/json', bytes: Buffer.from(text) })),
  fc.constantFrom('text/plain', 'application/x-tar', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1').chain((type) =>
    fc.uint8Array({ maxLength: 2_000 }).map((bytes) => ({ type, bytes: Buffer.from(bytes) })),
  ),
);

function send(baseUrl: string, request: Sent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // A connection per request: the cloud closes one whose body it refused unread, and a pooled socket would race that.
    const outgoing = http.request(new URL(baseUrl), { method: request.method, path: request.path, headers: request.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

describe('every route under hostile input, signed in as admin, on Postgres', () => {
  let testCloud: TestCloud;
  let token: string;
  let routes: Route[];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    testCloud = await startTestCloud();
    token = ((await signedInAsAdmin(testCloud.cloud.httpUrl)).headers as Record<string, string>).authorization!.slice('Bearer '.length);
    const document = (await (await fetch(`${testCloud.cloud.httpUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path })))
      // Signing out would end the session every other request runs on.
      .filter((route) => !(route.method === 'POST' && route.path === '/api/auth/logout'));
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await testCloud?.stop();
  });

  it('answers every request below 500, saying what is wrong, and keeps serving', async () => {
    expect(routes.length).toBeGreaterThan(20);
    const request = fc.record({
      route: fc.constantFrom(...routes),
      segments: fc.array(segment, { minLength: 4, maxLength: 4 }),
      query: queryString,
      cookie,
      viaCookie: fc.boolean(),
      body,
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ route, segments, query, cookie: sentCookie, viaCookie, body: sentBody }) => {
        let next = 0;
        const path = route.path.replace(/\{\w+\}/g, () => segments[next++ % segments.length]!) + query;
        const headers: Record<string, string> = {};
        // The session as a bearer token, or as the labeler UI's cookie beside whatever else the cookie header holds.
        if (viaCookie) headers.cookie = [sentCookie, `loupe_session=${token}`].filter(Boolean).join('; ');
        else headers.authorization = `Bearer ${token}`;
        if (sentCookie && !viaCookie) headers.cookie = sentCookie;
        // No body on a GET: Node leaves one unread and reads it as the next request, answering that garbage on a closing connection.
        const withBody = route.method === 'GET' ? undefined : sentBody;
        if (withBody) headers['content-type'] = withBody.type;
        const answer = await send(testCloud.cloud.httpUrl, { method: route.method, path, headers, body: withBody?.bytes });
        expect({ route: `${route.method} ${path.slice(0, 200)}`, status: answer.status, text: answer.text.slice(0, 300) }).toMatchObject({ status: expect.toSatisfy((status: number) => status < 500) as unknown });
        if (answer.status >= 400) expect((JSON.parse(answer.text) as { message: string }).message.length).toBeGreaterThan(10);
      }),
      { numRuns: 400 },
    );
    expect(unhandled).toEqual([]);
    expect((await fetch(`${testCloud.cloud.httpUrl}/healthz`)).status).toBe(200);
  }, 240_000);
});
