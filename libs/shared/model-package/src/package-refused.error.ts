import { DomainError, type DomainErrorKind } from '@loupe/service';

/** Why a package was refused; stable codes for scripts, with a sentence for people in the message. */
export type RefusalReason =
  | 'invalid-package-manifest'
  | 'unsigned'
  | 'unknown-key'
  | 'bad-signature'
  | 'missing-file'
  | 'hash-mismatch'
  | 'unlisted-file'
  | 'invalid-tar'
  | 'unsafe-entry'
  | 'too-large'
  | 'manifest-mismatch'
  | 'external-data';

/** The package cannot be trusted or used; nothing in it should reach onnxruntime. */
export class PackageRefusedError extends DomainError {
  constructor(
    override readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }

  // A package over the size limits is answered as the body limit is (HTTP 413), the rest as refusals (HTTP 422).
  get kind(): DomainErrorKind {
    return this.reason === 'too-large' ? 'too_large' : 'refused';
  }
}
