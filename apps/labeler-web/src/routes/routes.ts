import type { UserDto } from '@loupe/api-contracts';

export type Role = UserDto['role'];
export type Screen = 'label' | 'review' | 'projects' | 'models' | 'training' | 'fleet' | 'rollouts';

/**
 * Where the page is, kept in the address so a reload, a bookmark or a
 * shared link opens the same screen: `#/<screen>`, or `#/<screen>/<id>` for
 * one project's queue (label, review) or training runs (training), or one
 * rollout.
 */
export interface Route {
  screen: Screen;
  id: string | null;
}

const ENGINEERS: readonly Role[] = ['engineer', 'admin'];

/**
 * Each screen's header link and the roles it is for: the roles the cloud
 * serves its routes to, so no one is shown a screen that would answer 403.
 * In header order.
 */
export const SCREENS: Record<Screen, { title: string; roles: readonly Role[] | 'all' }> = {
  label: { title: 'Label', roles: ['labeler', 'reviewer'] },
  review: { title: 'Review', roles: ['reviewer'] },
  projects: { title: 'Projects', roles: 'all' },
  models: { title: 'Models', roles: 'all' },
  // Everyone sees what their labels trained; starting and approving runs is for engineers (the screen hides it from others).
  training: { title: 'Training', roles: 'all' },
  fleet: { title: 'Fleet', roles: ENGINEERS },
  rollouts: { title: 'Rollouts', roles: ENGINEERS },
};

const SCREEN_NAMES = Object.keys(SCREENS) as Screen[];

export const routeHref = (screen: Screen, id?: string | null): string => (id ? `#/${screen}/${encodeURIComponent(id)}` : `#/${screen}`);

/** The route an address names; null for an empty or unknown one (the page then opens the role's home screen). */
export function parseRoute(hash: string): Route | null {
  const match = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash);
  const screen = SCREEN_NAMES.find((name) => name === match?.[1]);
  if (!match || !screen) return null;
  const id = match[2] ?? '';
  return { screen, id: id === '' ? null : decoded(id) };
}

export function allows(screen: Screen, role: Role): boolean {
  const { roles } = SCREENS[screen];
  return roles === 'all' || roles.includes(role);
}

/** The screens a role gets, in header order. */
export const screensFor = (role: Role): Screen[] => SCREEN_NAMES.filter((screen) => allows(screen, role));

/** Where a role starts: its work queue, or the projects for those who set work up. */
export function homeScreen(role: Role): Screen {
  switch (role) {
    case 'labeler':
      return 'label';
    case 'reviewer':
      return 'review';
    case 'engineer':
    case 'admin':
      return 'projects';
  }
}

/** Who may open a screen, in words, for someone who may not. */
export function whoMayOpen(screen: Screen): string {
  const { roles } = SCREENS[screen];
  if (roles === 'all') return 'everyone';
  const names = roles.map((role) => `${role}s`);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

function decoded(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    // A hand-edited address with a stray `%`: the id as typed, which the cloud will not know.
    return id;
  }
}
