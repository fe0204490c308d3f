import { DomainError } from '@loupe/service';

/** No candidate of that training run: the run does not exist or has not pushed one yet (HTTP 404). */
export class PromotionNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(runId: string) {
    super(`training run ${runId} has no candidate model to decide on`);
  }
}

/** The candidate's decision has moved on: it lost, was approved or rejected already (HTTP 409). */
export class PromotionConflictError extends DomainError {
  readonly kind = 'conflict';
}
