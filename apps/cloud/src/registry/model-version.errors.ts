import { DomainError } from '@loupe/service';

export class ModelVersionNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(modelName: string, version?: number) {
    super(version === undefined ? `no model ${modelName} in the registry` : `no version ${version} of model ${modelName} in the registry`);
  }
}
