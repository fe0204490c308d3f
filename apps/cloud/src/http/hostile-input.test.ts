import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedInAsAdmin } from '../testing/sign-in';
import { startTestCloud, type TestCloud } from '../testing/test-cloud';

interface Route {
  method: string;
  path: string;
  /** The JSON schema of its body, from the OpenAPI document. */
  bodySchema?: JsonSchema;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  format?: string;
}

/** Values a schema's leaves might carry from a hostile client: what Postgres or a parser refuses. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x'.repeat(100_000), '', ' ', '\u202e', '%00', '../../etc/passwd'),
);
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, -1, 0, 0.5));

/**
 * Bodies shaped like the route's own schema, each leaf either plausible or
 * hostile, so requests get past the outer checks to where values meet the
 * database. Depth-limited.
 */
function shapedLike(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 1 });
  if (schema.enum) return fc.oneof(fc.constantFrom(...schema.enum), hostileString);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((option) => shapedLike(option, depth + 1)));
  switch (schema.type) {
    case 'object': {
      const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, value]) => [key, shapedLike(value, depth + 1)]));
      return fc.record(properties, { requiredKeys: (schema.required ?? []).filter((key) => key in properties) });
    }
    case 'array':
      return fc.array(shapedLike(schema.items, depth + 1), { maxLength: 3 });
    case 'string':
      return fc.oneof(schema.format === 'uuid' ? fc.uuid() : schema.format === 'email' ? fc.emailAddress() : fc.string({ maxLength: 12 }), hostileString);
    case 'integer':
    case 'number':
      return fc.oneof(fc.integer({ min: 0, max: 10 }), hostileNumber);
    case 'boolean':
      return fc.oneof(fc.boolean(), hostileString);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
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
    const document = (await (await fetch(`${testCloud.cloud.httpUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
    };
    routes = Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, operation]) => ({ method: method.toUpperCase(), path, bodySchema: operation.requestBody?.content['application/json']?.schema })),
      )
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
    const request = fc.constantFrom(...routes).chain((route) =>
      fc.record({
        route: fc.constant(route),
        segments: fc.array(fc.oneof(segment, fc.uuid()), { minLength: 4, maxLength: 4 }),
        query: queryString,
        cookie,
        viaCookie: fc.boolean(),
        body: fc.oneof(body, shapedLike(route.bodySchema).map((value) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(value) ?? 'null') }))),
      }),
    );
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

  it.each([
    ['a cookie decodeURIComponent cannot read', 'GET', '/api/auth/me', { cookie: 'loupe_session=%E0%A4%A' }, undefined, 401, /session token .* is malformed/],
    ['a version past a Postgres integer', 'GET', '/api/models/pcb-aoi/versions/99999999999999999999', {}, undefined, 400, /path parameter version: a version is a whole number/],
    ['a negative version', 'GET', '/api/models/pcb-aoi/versions/-1', {}, undefined, 400, /path parameter version/],
    ['a version in exponent form', 'GET', '/api/models/pcb-aoi/versions/1e30', {}, undefined, 400, /path parameter version/],
    ['a NUL in a path parameter', 'GET', '/api/models/a%00b/aliases/history', {}, undefined, 400, /path parameter name holds a NUL character/],
    ['a NUL in a query parameter', 'GET', '/api/fleet/devices?group=%00', {}, undefined, 400, /query parameter group holds a NUL/],
    ['a NUL in a JSON body', 'POST', '/api/users', {}, '{"email":"a@b.cd","name":"x\\u0000","role":"labeler","password":"long-enough-password"}', 400, /body.name holds a NUL/],
    ['a version past a Postgres integer in a body', 'POST', '/api/models/pcb-aoi/aliases/production', {}, '{"version":2147483648,"reason":"why not"}', 400, /version: a version is at most 2147483647/],
    ['broken JSON', 'POST', '/api/users', {}, '{"email":', 400, /JSON/],
    ['a tar where JSON belongs', 'POST', '/api/users', { 'content-type': 'application/x-tar' }, 'not json', 415, /takes no application\/x-tar body/],
    ['a broken percent-encoding in the path', 'GET', '/api/models/%E0%A4%A/versions/1', {}, undefined, 400, /complete %XX escapes/],
  ] as const)('answers %s with %i and what to fix', async (_, method, path, headers, sentBody, status, message) => {
    const withSession: Record<string, string> = 'cookie' in headers ? { ...headers } : { authorization: `Bearer ${token}`, ...headers };
    if (sentBody !== undefined) withSession['content-type'] ??= 'application/json';
    const answer = await send(testCloud.cloud.httpUrl, { method, path, headers: withSession, body: sentBody === undefined ? undefined : Buffer.from(sentBody) });
    expect(answer.status).toBe(status);
    expect((JSON.parse(answer.text) as { message: string }).message).toMatch(message);
  });

  it('serves sample images, and every other answer, with X-Content-Type-Options: nosniff', async () => {
    const id = randomUUID();
    const key = `samples/${id}.jpg`;
    await mkdir(join(testCloud.dataDir, 'blobs', 'samples'), { recursive: true });
    await writeFile(join(testCloud.dataDir, 'blobs', key), Buffer.from('<html><script>alert(1)</script></html>'));
    const db = new pg.Client({ connectionString: testCloud.database.url });
    await db.connect();
    await db.query(
      `INSERT INTO samples (id, site_id, device_id, station_id, unit_serial, captured_at, model_name, model_version, verdict,
                            prediction, priority, reason, image_key, image_sha256, image_bytes, image_media_type)
       VALUES ($1, 'plant', 'aoi-1', 'line-1', '', now(), 'm', '1', 'pass', '{}'::jsonb, 0.5, 'margin', $2, repeat('0', 64), 38, 'image/jpeg')`,
      [id, key],
    );
    await db.end();
    const image = await fetch(`${testCloud.cloud.httpUrl}/api/samples/${id}/image`, { headers: { authorization: `Bearer ${token}` } });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    for (const path of ['/healthz', '/api/openapi.json', '/api/no-such-route', `/api/samples/${randomUUID()}/image`]) {
      expect((await fetch(`${testCloud.cloud.httpUrl}${path}`)).headers.get('x-content-type-options')).toBe('nosniff');
    }
  });
});
