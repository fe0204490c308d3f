import { FleetPage } from './fleet/fleet-page';

export function App() {
  return (
    <>
      <header>Loupe</header>
      <FleetPage />
    </>
  );
}
