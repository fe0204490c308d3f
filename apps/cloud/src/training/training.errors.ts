import { DomainError } from '@loupe/service';

export class TrainingRunNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(id: string) {
    super(`no training run ${id}`);
  }
}

/** A cancel of a run that has ended already. */
export class TrainingRunFinishedError extends DomainError {
  readonly kind = 'conflict';
  override readonly reason = 'run-finished';
  constructor(id: string, state: string) {
    super(`training run ${id} has ${state} already; only a queued or running run can be cancelled`);
  }
}

/** No backbone to train on: the one named is not in the registry, or the default has not been pushed. */
export class BackboneRefusedError extends DomainError {
  readonly kind = 'refused';
  override readonly reason = 'no-backbone';
}

/** A run that cannot succeed as started (too few labels, a backbone without a feature output): it fails at once and is not retried. */
export class RunRefusedError extends Error {
  override readonly name = 'RunRefusedError';
}
