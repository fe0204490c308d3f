import { DomainError } from '@loupe/service';

/** An image the pipeline cannot use; the message tells a station integrator what to change. */
export class InvalidImageError extends DomainError {
  readonly kind = 'invalid';
}

/**
 * An image whose bytes are not what their encoder wrote: cut short, bits
 * changed, or a header that disagrees with its data. Judging it would judge
 * some other picture, so it gets no verdict.
 */
export class DamagedImageError extends InvalidImageError {
  constructor(detail: string) {
    super(`image is damaged: ${detail}; send the image again as the camera wrote it`);
  }
}
