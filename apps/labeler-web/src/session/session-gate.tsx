import type { UserDto } from '@loupe/api-contracts';
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { fetchSignedInUser, signIn, signOut } from './session-api';

type Session = { status: 'checking' } | { status: 'signed-out'; problem: string | null } | { status: 'signed-in'; user: UserDto };

interface SessionGateProps {
  /** Above everything, for whoever is signed in (null while checking or signed out): the header links depend on the role. */
  header: (user: UserDto | null) => ReactNode;
  children: (user: UserDto) => ReactNode;
}

/** Shows its children to a signed-in user, and a sign-in form to anyone else. */
export function SessionGate({ header, children }: SessionGateProps) {
  const [session, setSession] = useState<Session>({ status: 'checking' });
  const check = useCallback(() => {
    fetchSignedInUser(fetch).then(
      (user) => setSession(user ? { status: 'signed-in', user } : { status: 'signed-out', problem: null }),
      (error: Error) => setSession({ status: 'signed-out', problem: error.message }),
    );
  }, []);
  useEffect(check, [check]);

  switch (session.status) {
    case 'checking':
      return (
        <>
          {header(null)}
          <p className="notice">Checking your session…</p>
        </>
      );
    case 'signed-out':
      return (
        <>
          {header(null)}
          <SignInForm problem={session.problem} onSignedIn={check} />
        </>
      );
    case 'signed-in':
      return (
        <>
          {header(session.user)}
          <p className="session">
            {session.user.name} ({session.user.role}){' '}
            <button type="button" onClick={() => void signOut(fetch).finally(check)}>
              Sign out
            </button>
          </p>
          {children(session.user)}
        </>
      );
  }
}

function SignInForm({ problem, onSignedIn }: { problem: string | null; onSignedIn: () => void }) {
  const [error, setError] = useState<string | null>(problem);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const field = (name: string) => (event.currentTarget.elements.namedItem(name) as HTMLInputElement).value;
    const [email, password] = [field('email'), field('password')];
    setBusy(true);
    signIn(fetch, email, password)
      .then((message) => (message ? setError(message) : onSignedIn()), (failure: Error) => setError(failure.message))
      .finally(() => setBusy(false));
  };
  return (
    <main>
      <h1>Sign in</h1>
      <form onSubmit={submit} className="sign-in">
        <label>
          Email <input name="email" type="email" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p className="notice error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
