import type { UserDto } from '@loupe/api-contracts';
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { fetchSignedInUser, signIn, signOut } from './session-api';
import styles from './sign-in.module.css';

type Session = { status: 'checking' } | { status: 'signed-out'; problem: string | null } | { status: 'signed-in'; user: UserDto };

interface SessionGateProps {
  /** Above everything, for whoever is signed in (null while checking or signed out): the header links depend on the role. */
  header: (user: UserDto | null, onSignOut: () => void) => ReactNode;
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
  const leave = useCallback(() => void signOut(fetch).finally(check), [check]);

  switch (session.status) {
    case 'checking':
      return (
        <>
          {header(null, leave)}
          <main>
            <p className="notice">Checking your session…</p>
          </main>
        </>
      );
    case 'signed-out':
      return (
        <>
          {header(null, leave)}
          <SignInForm problem={session.problem} onSignedIn={check} />
        </>
      );
    case 'signed-in':
      return (
        <>
          {header(session.user, leave)}
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
    <main className={styles.page}>
      <form onSubmit={submit} className={styles.card}>
        <h1>Sign in to Loupe</h1>
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
