import { TEST_ADMIN_PASSWORD } from './test-cloud-config';

/** Request options carrying a session of the test admin (admin@loupe.test), for calls to protected routes. */
export async function signedInAsAdmin(httpUrl: string): Promise<RequestInit> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@loupe.test', password: TEST_ADMIN_PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`test admin sign-in answered ${response.status}: ${await response.text()}`);
  const { token } = (await response.json()) as { token: string };
  return { headers: { authorization: `Bearer ${token}` } };
}
