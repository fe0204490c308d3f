import { describe, expect, it } from 'vitest';
import { fetchSignedInUser, signIn } from './session-api';

const json = (status: number, body: unknown) =>
  Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

describe('the session API', () => {
  it('reads the signed-in user, and null once the session is gone', async () => {
    const user = { id: '8d4a7c1e-3f7e-4f55-9b1a-3c2f0e1d2a4b', email: 'ana@plant.example', name: 'Ana', role: 'labeler' };
    expect(await fetchSignedInUser(() => json(200, user))).toEqual(user);
    expect(await fetchSignedInUser(() => json(401, { statusCode: 401, error: 'unauthenticated', message: 'sign in first' }))).toBeNull();
  });

  it('says what went wrong in words for the form', async () => {
    expect(await signIn(() => json(200, {}), 'a@b.c', 'x')).toBeNull();
    expect(await signIn(() => json(401, { statusCode: 401, error: 'unauthenticated', message: 'email or password is wrong' }), 'a@b.c', 'x')).toBe(
      'Email or password is wrong.',
    );
    expect(await signIn(() => json(400, { statusCode: 400, error: 'invalid_request', message: 'email: email must be an email address' }), 'a', 'x')).toBe(
      'The cloud answered 400: email: email must be an email address',
    );
    await expect(signIn(() => Promise.reject(new TypeError('fetch failed')), 'a@b.c', 'x')).rejects.toThrow('Cannot reach the cloud');
  });
});
