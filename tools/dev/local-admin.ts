/** The admin `npm start` creates on one machine, unless ADMIN_EMAIL and ADMIN_PASSWORD say otherwise. */
export const LOCAL_ADMIN = { email: 'admin@loupe.local', password: 'loupe-local-admin' };

/** Request options carrying a session of the local admin; throws while the cloud cannot sign anyone in. */
export async function signedInAsLocalAdmin(httpUrl: string): Promise<RequestInit> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(LOCAL_ADMIN),
  });
  if (response.status !== 200) throw new Error(`sign-in as ${LOCAL_ADMIN.email} answered ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  return { headers: { authorization: `Bearer ${token}` } };
}
