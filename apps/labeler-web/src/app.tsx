import type { UserDto } from '@loupe/api-contracts';
import { useCallback, useEffect, useState } from 'react';
import { FleetPage } from './fleet/fleet-page';
import { QueuePage } from './labeling/queue-page';
import { ModelsPage } from './models/models-page';
import { ProjectsPage } from './projects/projects-page';
import { ReviewPage } from './review/review-page';
import { SessionGate } from './session/session-gate';

// Each screen by its hash route (`#/review`), with its header link.
const SCREENS = { label: 'Label', review: 'Review', projects: 'Projects', models: 'Models', fleet: 'Fleet' } as const;
type Screen = keyof typeof SCREENS;

const screenOf = (hash: string): Screen => (Object.keys(SCREENS) as Screen[]).find((screen) => hash === `#/${screen}`) ?? 'label';

export function App() {
  const [screen, setScreen] = useState<Screen>(screenOf(window.location.hash));
  const [sessionCheck, setSessionCheck] = useState(0);
  useEffect(() => {
    const onHash = () => setScreen(screenOf(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const expired = useCallback(() => setSessionCheck((count) => count + 1), []);
  return (
    <>
      <header>
        Loupe
        {Object.entries(SCREENS).map(([route, title]) => (
          <a key={route} href={`#/${route}`}>
            {title}
          </a>
        ))}
      </header>
      <SessionGate key={sessionCheck}>{(user) => <ScreenView screen={screen} user={user} onSessionExpired={expired} />}</SessionGate>
    </>
  );
}

function ScreenView({ screen, user, onSessionExpired }: { screen: Screen; user: UserDto; onSessionExpired: () => void }) {
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
      return <FleetPage />;
  }
}
