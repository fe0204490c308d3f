import { DomainError } from '@loupe/service';

export class RolloutNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(id: string) {
    super(`no rollout ${id}`);
  }
}

/** A command that the rollout's state does not allow, or a second rollout of one model to one group. */
export class RolloutConflictError extends DomainError {
  readonly kind = 'conflict';
}

/** Nothing to roll out to, or nothing to compare with. */
export class RolloutRefusedError extends DomainError {
  readonly kind = 'refused';
}
