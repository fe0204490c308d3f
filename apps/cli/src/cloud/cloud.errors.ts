/** The cloud understood the request and said no (a 4xx answer). */
export class CloudRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudRefusedError';
  }
}

/** No usable answer: the cloud is unreachable, failed (5xx) or broke the contract. */
export class CloudFailedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CloudFailedError';
  }
}
