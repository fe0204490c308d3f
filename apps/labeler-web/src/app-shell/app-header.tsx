import type { UserDto } from '@loupe/api-contracts';
import { routeHref, SCREENS, screensFor, type Screen } from '../routes/routes';
import styles from './app-header.module.css';

interface AppHeaderProps {
  /** Null while the session is checked and when signed out: then there are no links. */
  user: UserDto | null;
  /** The screen on view, marked in the links. */
  screen: Screen | null;
  onSignOut: () => void;
}

/** The brand, a link to each screen the user's role may open, and who is signed in. */
export function AppHeader({ user, screen, onSignOut }: AppHeaderProps) {
  return (
    <header className={styles.header}>
      <span className={styles.brand}>
        <img src="/favicon.svg" alt="" /> Loupe
      </span>
      {user && (
        <nav className={styles.nav} aria-label="Screens">
          {screensFor(user.role).map((link) => (
            <a key={link} href={routeHref(link)} aria-current={link === screen ? 'page' : undefined}>
              {SCREENS[link].title}
            </a>
          ))}
        </nav>
      )}
      {user && (
        <div className={styles.user}>
          <span>
            <strong>{user.name}</strong> · {user.role}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      )}
    </header>
  );
}
