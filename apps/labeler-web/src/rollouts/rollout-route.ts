// A rollout's page has its own address, `#/rollouts/<id>`, so a link to it
// can be shared, and Back returns to the list.
const PREFIX = '#/rollouts/';

export const rolloutHref = (rolloutId: string) => `${PREFIX}${encodeURIComponent(rolloutId)}`;

/** The rollout a hash route selects, or null for the list. */
export function rolloutIdOf(hash: string): string | null {
  if (!hash.startsWith(PREFIX)) return null;
  const id = hash.slice(PREFIX.length);
  if (id === '') return null;
  try {
    return decodeURIComponent(id);
  } catch {
    // A hand-edited address with a stray `%`: the id as typed, which the cloud will not know.
    return id;
  }
}
