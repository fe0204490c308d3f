import { describe, expect, it } from 'vitest';
import { CloudRefusedError, SessionExpiredError } from '../api/cloud-api';
import { fakeCloud, refusal } from '../api/fake-cloud';
import { ModelsApi } from './models-api';

const summary = { modelName: 'pcb-aoi', project: 'PCB defects', task: 'classification', latestVersion: 4, aliases: { production: 3, staging: 4 } };

const version = {
  modelName: 'pcb-aoi',
  version: 4,
  task: 'classification',
  packageSha256: 'a'.repeat(64),
  packageBytes: 12_345_678,
  manifest: { format: 'loupe-model/1' },
  validation: { provider: 'cpu', goldenSamples: 8, checkMs: 412 },
  metrics: { accuracy: 0.97 },
  datasetExport: 'exports/2026-11.json',
  parentVersion: 3,
  notes: 'retrained on November data',
  author: 'eng@example.com',
  createdAt: '2026-11-22T12:00:00.000Z',
  aliases: ['staging'],
};

const move = { alias: 'production', fromVersion: 2, toVersion: 3, actor: 'eng@example.com', reason: 'beat v2 on the holdout', movedAt: '2026-11-21T09:30:00.000Z' };

describe('ModelsApi', () => {
  it('lists the models checked against the contract', async () => {
    const cloud = fakeCloud({ status: 200, body: { models: [summary] } });
    expect(await new ModelsApi(cloud.fetchFn).list()).toEqual([summary]);
    expect(cloud.requests).toEqual([{ method: 'GET', path: '/api/models', body: undefined }]);
  });

  it('reads one version with its validation, metrics and lineage', async () => {
    const cloud = fakeCloud({ status: 200, body: version });
    expect(await new ModelsApi(cloud.fetchFn).version('pcb-aoi', 4)).toEqual(version);
    expect(cloud.requests).toEqual([{ method: 'GET', path: '/api/models/pcb-aoi/versions/4', body: undefined }]);
  });

  it('reads the alias history newest first, as the cloud sent it', async () => {
    const first = { ...move, alias: 'staging', fromVersion: null, toVersion: 2, movedAt: '2026-11-20T09:30:00.000Z' };
    const cloud = fakeCloud({ status: 200, body: { moves: [move, first] } });
    expect(await new ModelsApi(cloud.fetchFn).aliasHistory('pcb-aoi')).toEqual([move, first]);
    expect(cloud.requests).toEqual([{ method: 'GET', path: '/api/models/pcb-aoi/aliases/history', body: undefined }]);
  });

  it('keeps a model name with a slash or a question mark in one path segment', async () => {
    const cloud = fakeCloud({ status: 200, body: { moves: [] } }, { status: 200, body: { ...version, modelName: 'line 3/aoi?' } });
    const api = new ModelsApi(cloud.fetchFn);
    await api.aliasHistory('line 3/aoi?');
    await api.version('line 3/aoi?', 4);
    expect(cloud.requests.map((request) => request.path)).toEqual(['/api/models/line%203%2Faoi%3F/aliases/history', '/api/models/line%203%2Faoi%3F/versions/4']);
  });

  it("says which model or version the cloud does not know, in the cloud's words", async () => {
    const missing = new ModelsApi(fakeCloud(refusal(404, 'model pcb-aoi has no version 9')).fetchFn).version('pcb-aoi', 9);
    await expect(missing).rejects.toThrow(CloudRefusedError);
    await expect(missing).rejects.toThrow('The cloud answered 404: model pcb-aoi has no version 9');
  });

  it('turns 401 into an expired session', async () => {
    await expect(new ModelsApi(fakeCloud(refusal(401, 'sign in first')).fetchFn).list()).rejects.toThrow(SessionExpiredError);
  });

  it('refuses an answer the contract does not allow, such as an alias it does not know', async () => {
    const unknownAlias = { models: [{ ...summary, aliases: { gold: 1 } }] };
    await expect(new ModelsApi(fakeCloud({ status: 200, body: unknownAlias }).fetchFn).list()).rejects.toThrow('does not understand');
    await expect(new ModelsApi(fakeCloud({ status: 200, body: { ...version, createdAt: 'yesterday' } }).fetchFn).version('pcb-aoi', 4)).rejects.toThrow(
      'does not understand',
    );
  });
});
