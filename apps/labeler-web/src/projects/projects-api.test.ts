import { describe, expect, it } from 'vitest';
import { CloudRefusedError } from '../api/cloud-api';
import { fakeCloud, refusal } from '../api/fake-cloud';
import { ProjectRejectedError, ProjectsApi } from './projects-api';

const request = { name: 'Solder joints', modelName: 'pcb-aoi', task: 'classification', classes: ['Normal', 'Defective'], consensus: 2 } as const;
const project = { ...request, classes: [...request.classes], id: '8d4a7c1e-3f7e-4f55-9b1a-3c2f0e1d2a4b' };

describe('ProjectsApi', () => {
  it('lists the projects checked against the contract', async () => {
    const cloud = fakeCloud({ status: 200, body: { projects: [project] } });
    expect(await new ProjectsApi(cloud.fetchFn).list()).toEqual([project]);
    expect(cloud.requests).toEqual([{ method: 'GET', path: '/api/projects', body: undefined }]);
  });

  it('creates a project and reads it back', async () => {
    const cloud = fakeCloud({ status: 201, body: project });
    expect(await new ProjectsApi(cloud.fetchFn).create({ ...request, classes: [...request.classes] })).toEqual(project);
    expect(cloud.requests).toEqual([{ method: 'POST', path: '/api/projects', body: request }]);
  });

  it("rejects a bad or taken project with the cloud's own sentence, for the form", async () => {
    const create = (answer: ReturnType<typeof refusal>) => new ProjectsApi(fakeCloud(answer).fetchFn).create({ ...request, classes: [] });
    await expect(create(refusal(400, 'classes: classes needs at least one class'))).rejects.toThrow(ProjectRejectedError);
    await expect(create(refusal(400, 'classes: classes needs at least one class'))).rejects.toThrow(/^classes: classes needs at least one class$/);
    await expect(create(refusal(409, 'a project named Solder joints exists'))).rejects.toThrow(/^a project named Solder joints exists$/);
    await expect(create(refusal(403, 'needs the role engineer or admin; you are labeler'))).rejects.toThrow(CloudRefusedError);
  });
});
