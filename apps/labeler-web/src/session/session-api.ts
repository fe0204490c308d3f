import { apiErrorSchema, userSchema, type UserDto } from '@loupe/api-contracts';

const REQUEST_TIMEOUT_MS = 10_000;

/** Who is signed in, or null when nobody is (or the session expired). Throws with a message for the page otherwise. */
export async function fetchSignedInUser(fetchFn: typeof fetch): Promise<UserDto | null> {
  const response = await send(fetchFn, '/api/auth/me', { method: 'GET' });
  if (response.status === 401) return null;
  const body = await readJson(response);
  if (response.status >= 400) throw new Error(messageOf(response, body));
  const user = userSchema.safeParse(body);
  if (!user.success) throw new Error('The cloud sent a user this page does not understand. Reload the page: the cloud may have been updated.');
  return user.data;
}

/** Signs in; the cloud sets the session cookie. Resolves to an error message for the form, or null on success. */
export async function signIn(fetchFn: typeof fetch, email: string, password: string): Promise<string | null> {
  const response = await send(fetchFn, '/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.ok) return null;
  if (response.status === 401) return 'Email or password is wrong.';
  return messageOf(response, await readJson(response));
}

export async function signOut(fetchFn: typeof fetch): Promise<void> {
  await send(fetchFn, '/api/auth/logout', { method: 'POST' });
}

async function send(fetchFn: typeof fetch, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchFn(path, { ...init, credentials: 'same-origin', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch {
    throw new Error('Cannot reach the cloud. Is it running (npm start)?');
  }
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

function messageOf(response: Response, body: unknown): string {
  const apiError = apiErrorSchema.safeParse(body);
  return apiError.success ? `The cloud answered ${response.status}: ${apiError.data.message}` : `The cloud answered ${response.status} ${response.statusText}.`;
}
