export class RolloutNotFoundError extends Error {
  constructor(id: string) {
    super(`no rollout ${id}`);
    this.name = 'RolloutNotFoundError';
  }
}

/** A command that the rollout's state does not allow, or a second rollout of one model to one group. */
export class RolloutConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutConflictError';
  }
}

/** Nothing to roll out to, or nothing to compare with. */
export class RolloutRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutRefusedError';
  }
}
