import { translateRefusals } from '../api/cloud-api';

/** How often a held lease is extended: well inside the cloud's lease (LABEL_LEASE, 2 minutes by default). */
export const HEARTBEAT_MS = 30_000;

/** The lease on what is on screen ran out (a long break) or went to someone else: take the next one. */
export class LeaseExpiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseExpiredError';
  }
}

/** A call on a leased sample, whose 409 (the cloud's answer to a lost lease) becomes LeaseExpiredError with `lostMessage`. */
export function underLease<T>(call: Promise<T>, lostMessage: string): Promise<T> {
  return translateRefusals(call, [409], () => new LeaseExpiredError(lostMessage));
}
