/** The admin `npm start` creates on one machine, unless ADMIN_EMAIL and ADMIN_PASSWORD say otherwise. */
export const LOCAL_ADMIN = { email: 'admin@loupe.local', password: 'loupe-local-admin' };

/** Request options carrying a session of the local admin (or the given one); throws while the cloud cannot sign anyone in. */
export async function signedInAsLocalAdmin(httpUrl: string, admin = LOCAL_ADMIN): Promise<RequestInit> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  });
  if (response.status !== 200) throw new Error(`sign-in as ${admin.email} answered ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  return { headers: { authorization: `Bearer ${token}` } };
}
