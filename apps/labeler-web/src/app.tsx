import { FleetPage } from './fleet/fleet-page';
import { SessionGate } from './session/session-gate';

export function App() {
  return (
    <>
      <header>Loupe</header>
      <SessionGate>{() => <FleetPage />}</SessionGate>
    </>
  );
}
