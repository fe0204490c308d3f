import type { RolloutDto } from '@loupe/api-contracts';

export type RolloutState = RolloutDto['state'];

export const ROLLOUT_COMMANDS = ['pause', 'resume', 'abort', 'promote'] as const;
export type RolloutCommand = (typeof ROLLOUT_COMMANDS)[number];

// The states in which the cloud accepts each command (apps/cloud/src/rollouts/rollouts.ts).
// The page only greys out the others; the cloud still decides, and says why with a 409.
const ALLOWED: Record<RolloutCommand, readonly RolloutState[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  promote: ['running', 'paused'],
};

export function allowsCommand(state: RolloutState, command: RolloutCommand): boolean {
  return ALLOWED[command].includes(state);
}

// A record, so a new state in the contract fails to compile here until someone decides.
const LIVE: Record<RolloutState, boolean> = {
  running: true,
  paused: true,
  rolling_back: true,
  aborting: true,
  succeeded: false,
  rolled_back: false,
  aborted: false,
};

/** Whether the controller still works on a rollout (a paused one still gathers device reports), so its page keeps polling. */
export const isLive = (state: RolloutState): boolean => LIVE[state];

/** What each command does, for the form that asks for its reason. */
export function commandEffect(command: RolloutCommand, rollout: Pick<RolloutDto, 'fromVersion'>): string {
  switch (command) {
    case 'pause':
      return 'No more devices are asked to update until it is resumed.';
    case 'resume':
      return 'The controller goes on; the bake and timeouts of the current stage start again.';
    case 'abort':
      return `Every device it touched goes back to v${rollout.fromVersion}.`;
    case 'promote':
      return 'The current stage counts as passed without waiting for its bake and gates: you vouch for it.';
  }
}
