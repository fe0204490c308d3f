import type { UserDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useState } from 'react';
import { AppHeader } from './app-shell/app-header';
import { FleetPage } from './fleet/fleet-page';
import { QueuePage } from './labeling/queue-page';
import { ModelsPage } from './models/models-page';
import { ProjectsPage } from './projects/projects-page';
import { ReviewPage } from './review/review-page';
import { RolloutsPage } from './rollouts/rollouts-page';
import { TrainingPage } from './training/training-page';
import { allows, homeScreen, parseRoute, routeHref, SCREENS, whoMayOpen, type Route } from './routes/routes';
import { SessionGate } from './session/session-gate';

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onHash = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return hash;
}

export function App() {
  const route = parseRoute(useHash());
  const [sessionCheck, setSessionCheck] = useState(0);
  const expired = useCallback(() => setSessionCheck((count) => count + 1), []);
  return (
    <SessionGate
      key={sessionCheck}
      header={(user, onSignOut) => <AppHeader user={user} screen={user ? (route?.screen ?? homeScreen(user.role)) : null} onSignOut={onSignOut} />}
    >
      {(user) => <RoutedScreen route={route} user={user} onSessionExpired={expired} />}
    </SessionGate>
  );
}

interface ScreenProps {
  route: Route | null;
  user: UserDto;
  onSessionExpired: () => void;
}

/** The screen the address names; an empty or unknown address becomes the role's home screen, in the address too. */
function RoutedScreen({ route, user, onSessionExpired }: ScreenProps) {
  useEffect(() => {
    if (!route) window.location.replace(routeHref(homeScreen(user.role)));
  }, [route, user.role]);
  if (!route) return null;
  if (!allows(route.screen, user.role)) {
    const home = homeScreen(user.role);
    return (
      <main>
        <p className="notice" role="alert">
          The {SCREENS[route.screen].title} screen is for {whoMayOpen(route.screen)}; you are signed in as a {user.role}.{' '}
          <a href={routeHref(home)}>Go to {SCREENS[home].title}</a>
        </p>
      </main>
    );
  }
  return <ScreenView route={route} user={user} onSessionExpired={onSessionExpired} />;
}

function ScreenView({ route, user, onSessionExpired }: ScreenProps & { route: Route }) {
  switch (route.screen) {
    case 'label':
      return <QueuePage projectId={route.id} onSessionExpired={onSessionExpired} />;
    case 'review':
      return <ReviewPage projectId={route.id} onSessionExpired={onSessionExpired} />;
    case 'projects':
      return <ProjectsPage user={user} onSessionExpired={onSessionExpired} />;
    case 'models':
      return <ModelsPage onSessionExpired={onSessionExpired} />;
    case 'training':
      return <TrainingPage projectId={route.id} user={user} onSessionExpired={onSessionExpired} />;
    case 'fleet':
      return <FleetPage onSessionExpired={onSessionExpired} />;
    case 'rollouts':
      return <RolloutsPage rolloutId={route.id} onSessionExpired={onSessionExpired} />;
  }
}
