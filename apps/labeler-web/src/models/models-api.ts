import { aliasHistoryResponseSchema, modelListResponseSchema, modelVersionSchema, type ModelListResponse, type ModelVersionDto } from '@loupe/api-contracts';
import type { z } from 'zod';
import { callCloud } from '../api/cloud-api';

/** One model of the registry's list: its latest version and where its aliases point. */
export type ModelSummary = ModelListResponse['models'][number];

/** One move of an alias, as the audit trail keeps it. */
export type AliasMove = z.infer<typeof aliasHistoryResponseSchema>['moves'][number];

/** The model registry, read only; each answer checked against the shared contract. */
export class ModelsApi {
  private readonly fetchFn: typeof fetch;

  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }

  async list(): Promise<ModelSummary[]> {
    return (await callCloud(this.fetchFn, { method: 'GET', path: '/api/models' }, modelListResponseSchema)).models;
  }

  version(modelName: string, version: number): Promise<ModelVersionDto> {
    return callCloud(this.fetchFn, { method: 'GET', path: `${modelPath(modelName)}/versions/${version}` }, modelVersionSchema);
  }

  /** Newest move first. */
  async aliasHistory(modelName: string): Promise<AliasMove[]> {
    return (await callCloud(this.fetchFn, { method: 'GET', path: `${modelPath(modelName)}/aliases/history` }, aliasHistoryResponseSchema)).moves;
  }
}

// Model names are chosen by whoever pushes; one with a slash or a `?` must
// still name one path segment.
const modelPath = (modelName: string) => `/api/models/${encodeURIComponent(modelName)}`;
