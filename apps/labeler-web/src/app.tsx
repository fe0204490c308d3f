import type { UserDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useState } from 'react';
import { FleetPage } from './fleet/fleet-page';
import { QueuePage } from './labeling/queue-page';
import { ModelsPage } from './models/models-page';
import { ProjectsPage } from './projects/projects-page';
import { ReviewPage } from './review/review-page';
import { rolloutIdOf } from './rollouts/rollout-route';
import { RolloutsPage } from './rollouts/rollouts-page';
import { SessionGate } from './session/session-gate';

type Role = UserDto['role'];

// The roles the cloud serves the fleet and rollout routes to.
const ENGINEERS: readonly Role[] = ['engineer', 'admin'];

type Screen = 'label' | 'review' | 'projects' | 'models' | 'fleet' | 'rollouts';

// Each screen by its hash route (`#/review`, or below it: `#/rollouts/<id>`),
// with its header link, and the roles it is for when not everyone's.
const SCREENS: Record<Screen, { title: string; roles?: readonly Role[] }> = {
  label: { title: 'Label' },
  review: { title: 'Review' },
  projects: { title: 'Projects' },
  models: { title: 'Models' },
  fleet: { title: 'Fleet', roles: ENGINEERS },
  rollouts: { title: 'Rollouts', roles: ENGINEERS },
};

const screenOf = (hash: string): Screen =>
  (Object.keys(SCREENS) as Screen[]).find((screen) => hash === `#/${screen}` || hash.startsWith(`#/${screen}/`)) ?? 'label';

/** Screens for everyone, and those for the user's role; signed out, those for everyone. */
function allows(screen: Screen, user: UserDto | null): boolean {
  const { roles } = SCREENS[screen];
  return roles === undefined || (user !== null && roles.includes(user.role));
}

export function App() {
  const [hash, setHash] = useState(window.location.hash);
  const [sessionCheck, setSessionCheck] = useState(0);
  useEffect(() => {
    const onHash = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const expired = useCallback(() => setSessionCheck((count) => count + 1), []);
  const screen = screenOf(hash);
  return (
    <SessionGate key={sessionCheck} header={(user) => <Header user={user} />}>
      {(user) =>
        allows(screen, user) ? (
          <ScreenView screen={screen} hash={hash} user={user} onSessionExpired={expired} />
        ) : (
          <main>
            <p className="notice">The {SCREENS[screen].title} screen is for engineers and admins.</p>
          </main>
        )
      }
    </SessionGate>
  );
}

function Header({ user }: { user: UserDto | null }) {
  return (
    <header>
      Loupe
      {(Object.keys(SCREENS) as Screen[])
        .filter((screen) => allows(screen, user))
        .map((screen) => (
          <a key={screen} href={`#/${screen}`}>
            {SCREENS[screen].title}
          </a>
        ))}
    </header>
  );
}

interface ScreenViewProps {
  screen: Screen;
  hash: string;
  user: UserDto;
  onSessionExpired: () => void;
}

function ScreenView({ screen, hash, user, onSessionExpired }: ScreenViewProps) {
  switch (screen) {
    case 'label':
      return <QueuePage onSessionExpired={onSessionExpired} />;
    case 'review':
      return <ReviewPage onSessionExpired={onSessionExpired} />;
    case 'projects':
      return <ProjectsPage user={user} onSessionExpired={onSessionExpired} />;
    case 'models':
      return <ModelsPage onSessionExpired={onSessionExpired} />;
    case 'fleet':
      return <FleetPage onSessionExpired={onSessionExpired} />;
    case 'rollouts':
      return <RolloutsPage rolloutId={rolloutIdOf(hash)} onSessionExpired={onSessionExpired} />;
  }
}
