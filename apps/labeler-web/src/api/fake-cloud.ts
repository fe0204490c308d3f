/** One answer of the fake cloud: a status and, unless absent, a JSON body. */
export interface FakeAnswer {
  status: number;
  body?: unknown;
}

/**
 * A fetch for the API clients' tests: it answers with `answers` in turn and
 * records each request (method, path, parsed JSON body).
 */
export function fakeCloud(...answers: FakeAnswer[]) {
  const requests: { method: string; path: string; body: unknown }[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    const path = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    requests.push({ method: init?.method ?? 'GET', path, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    const answer = answers.shift();
    if (!answer) return Promise.reject(new Error(`the fake cloud has no answer for ${path}`));
    const body = answer.body === undefined ? null : JSON.stringify(answer.body);
    return Promise.resolve(new Response(body, { status: answer.status, headers: { 'content-type': 'application/json' } }));
  };
  return { fetchFn, requests };
}

/** The cloud's error body (apiErrorSchema) for a refusal. */
export const refusal = (status: number, message: string): FakeAnswer => ({ status, body: { statusCode: status, error: 'refused', message } });

/** A claimed sample as the contract describes it. */
export const claimOf = (sampleId: string) => ({
  sampleId,
  token: '7',
  expiresAt: '2030-01-01T00:02:00.000Z',
  imageUrl: `/api/samples/${sampleId}/image`,
  stationId: 'line-3-aoi',
  capturedAt: '2030-01-01T00:00:00.000Z',
  modelVersion: '1',
  verdict: 'reject',
  prediction: { scores: [{ label: 'Defective', score: 0.58 }] },
  reason: 'margin',
});
