/** An image the pipeline cannot use; the message tells a station integrator what to change. */
export class InvalidImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidImageError';
  }
}
