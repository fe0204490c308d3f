import { useCallback, useEffect, useState } from 'react';
import { FleetPage } from './fleet/fleet-page';
import { QueuePage } from './labeling/queue-page';
import { SessionGate } from './session/session-gate';

type Screen = 'label' | 'fleet';

const screenOf = (hash: string): Screen => (hash === '#/fleet' ? 'fleet' : 'label');

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
        Loupe <a href="#/label">Label</a> <a href="#/fleet">Fleet</a>
      </header>
      <SessionGate key={sessionCheck}>{() => (screen === 'fleet' ? <FleetPage /> : <QueuePage onSessionExpired={expired} />)}</SessionGate>
    </>
  );
}
