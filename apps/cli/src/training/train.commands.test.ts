import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TrainingRunDto } from '@loupe/api-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { ExitCode } from '../exit-code';

// `loupe train ...` over real HTTP: a node:http server plays the cloud, answering by route.

const PROJECT = { id: '5d1c2b3a-0000-4000-8000-000000000001', name: 'Solder joints', modelName: 'pcb-aoi', task: 'classification', classes: ['ok', 'short'], consensus: 1 };
const RUN_ID = '7e2f4a1b-0000-4000-8000-000000000002';

const evaluation = {
  samples: 20,
  accuracy: 0.9,
  macroF1: 0.89,
  perClass: [
    { className: 'ok', precision: 0.9, recall: 0.9, support: 10 },
    { className: 'short', precision: 0.9, recall: 0.9, support: 10 },
  ],
  confusion: [
    [9, 1],
    [1, 9],
  ],
  classes: ['ok', 'short'],
  calibrationError: 0.031,
};

const queued: TrainingRunDto = {
  id: RUN_ID,
  projectId: PROJECT.id,
  modelName: 'pcb-aoi',
  state: 'queued',
  trigger: 'manual',
  startedBy: 'Eve',
  progress: null,
  backbone: { model: 'squeezenet-features', version: 1 },
  recipe: { l2Candidates: [0.001], classWeighting: true, maxIterations: 300, cropScale: 1.1 },
  dataset: null,
  features: null,
  challenger: null,
  champion: null,
  candidateVersion: null,
  decision: null,
  rolloutId: null,
  error: null,
  attempts: 1,
  createdAt: '2026-12-07T10:00:00.000Z',
  startedAt: null,
  finishedAt: null,
};
const running: TrainingRunDto = { ...queued, state: 'running', progress: { phase: 'features', done: 30, total: 120 }, startedAt: '2026-12-07T10:00:01.000Z' };
const succeeded: TrainingRunDto = {
  ...running,
  state: 'succeeded',
  progress: { phase: 'packaging', done: 1, total: 1 },
  dataset: { hash: 'ab'.repeat(32), labels: 120, train: 90, val: 10, test: 20 },
  features: { computed: 120, cached: 0 },
  challenger: evaluation,
  champion: { ...evaluation, version: 1, accuracy: 0.7, macroF1: 0.65 },
  candidateVersion: 2,
  decision: 'awaiting-approval',
  finishedAt: '2026-12-07T10:00:31.000Z',
};

interface Asked {
  method: string;
  url: string;
  body: string;
}

type Answer = { status: number; body: unknown };
type Routes = Record<string, Answer | Answer[]>;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A cloud answering `METHOD /path` from `routes`; a list answers in turn and then repeats its last. */
async function startCloud(routes: Routes) {
  const asked: Asked[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const route = `${request.method} ${request.url}`;
      asked.push({ method: request.method ?? '', url: request.url ?? '', body });
      const answers = routes[route];
      const answer = Array.isArray(answers) ? (answers.length > 1 ? answers.shift()! : answers[0]!) : answers;
      const { status, body: sent } = answer ?? { status: 404, body: { statusCode: 404, error: 'Not Found', message: `no route ${route}` } };
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(sent));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

async function loupe(args: string[], cloudUrl: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    fetch,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now: () => new Date('2026-12-07T10:01:00Z'),
    env: { LOUPE_CLOUD_URL: cloudUrl, LOUPE_TOKEN: 'session-token' },
  });
  return { code, stdout, stderr };
}

const projects = { status: 200, body: { projects: [PROJECT] } };
const runsPath = `/api/projects/${PROJECT.id}/training-runs`;

describe('loupe train start', () => {
  it('starts a run in a project named by name, follows it on one stderr line, and prints the result as JSON', async () => {
    const cloud = await startCloud({ 'GET /api/projects': projects, [`POST ${runsPath}`]: { status: 201, body: queued }, [`GET /api/training-runs/${RUN_ID}`]: [{ status: 200, body: running }, { status: 200, body: succeeded }] });
    const run = await loupe(['train', 'start', '--project', 'Solder joints', '--backbone', 'squeezenet-features:1', '--watch', '--json'], cloud.url);
    expect(run.code).toBe(ExitCode.ok);
    expect(JSON.parse(run.stdout)).toEqual(succeeded);
    expect(run.stderr).toBe(`\rtraining run ${RUN_ID}: queued, waiting for a worker\rtraining run ${RUN_ID}: features (2/5) 30 of 120, 25%\n`);
    expect(cloud.asked.find((asked) => asked.method === 'POST')).toEqual({ method: 'POST', url: runsPath, body: JSON.stringify({ backbone: { model: 'squeezenet-features', version: 1 } }) });
  });

  it('takes the project by id too, and without --watch prints the queued run and how to follow it', async () => {
    const cloud = await startCloud({ 'GET /api/projects': projects, [`POST ${runsPath}`]: { status: 201, body: queued } });
    const run = await loupe(['train', 'start', '--project', PROJECT.id], cloud.url);
    expect(run).toMatchObject({ code: ExitCode.ok, stderr: '' });
    expect(run.stdout).toContain(`follow it with: loupe train show ${RUN_ID} --watch`);
    expect(cloud.asked.at(-1)?.body).toBe('{}');
  });

  it('exits 5 when the watched run fails, with the JSON on stdout and the reason on a line of its own after the progress', async () => {
    const failed = { ...running, state: 'failed', error: 'the project has 3 settled labels; training needs 2 per class in each split' };
    const cloud = await startCloud({ 'GET /api/projects': projects, [`POST ${runsPath}`]: { status: 201, body: running }, [`GET /api/training-runs/${RUN_ID}`]: { status: 200, body: failed } });
    const run = await loupe(['train', 'start', '--project', 'Solder joints', '--watch', '--json'], cloud.url);
    expect(run.code).toBe(ExitCode.runFailed);
    expect(JSON.parse(run.stdout)).toMatchObject({ state: 'failed' });
    expect(run.stderr).toMatch(/25%\nloupe: training run \S+ failed: the project has 3 settled labels; training needs 2 per class in each split\n$/);
  });

  it("ends the progress line before the cloud's error when the watch breaks off", async () => {
    const cloud = await startCloud({ 'GET /api/projects': projects, [`POST ${runsPath}`]: { status: 201, body: running }, [`GET /api/training-runs/${RUN_ID}`]: { status: 403, body: { statusCode: 403, error: 'Forbidden', message: 'your role may not read runs' } } });
    const run = await loupe(['train', 'start', '--project', 'Solder joints', '--watch'], cloud.url);
    expect(run.code).toBe(ExitCode.refused);
    expect(run.stderr).toMatch(/25%\nloupe: the cloud refused GET .* \(403 Forbidden\): your role may not read runs\n$/);
  });

  it("refuses an unknown project, listing the project names, and a bad --backbone, before starting anything", async () => {
    const cloud = await startCloud({ 'GET /api/projects': projects });
    const unknown = await loupe(['train', 'start', '--project', 'Housings'], cloud.url);
    expect(unknown.code).toBe(ExitCode.usage);
    expect(unknown.stderr).toContain('no project has the name or id "Housings"; the projects are "Solder joints"');
    const badBackbone = await loupe(['train', 'start', '--project', 'Solder joints', '--backbone', 'resnet'], cloud.url);
    expect(badBackbone.code).toBe(ExitCode.usage);
    expect(badBackbone.stderr).toContain('--backbone must be <model>:<version>');
    expect((await loupe(['train', 'start'], cloud.url)).stderr).toContain('--project is required');
    expect(cloud.asked.every((asked) => asked.method === 'GET')).toBe(true);
  });

  it("shows the cloud's reason when it refuses to start a run", async () => {
    const cloud = await startCloud({ 'GET /api/projects': projects, [`POST ${runsPath}`]: { status: 409, body: { statusCode: 409, error: 'Conflict', message: 'a run of this project is already running' } } });
    const run = await loupe(['train', 'start', '--project', 'Solder joints', '--watch'], cloud.url);
    expect(run).toMatchObject({ code: ExitCode.refused, stdout: '' });
    expect(run.stderr).toBe(`loupe: the cloud refused POST ${cloud.url}${runsPath} (409 Conflict): a run of this project is already running\n`);
  });
});

describe('loupe train list, show, approve and reject', () => {
  it("lists a project's runs, one line each", async () => {
    const cloud = await startCloud({ 'GET /api/projects': projects, [`GET ${runsPath}`]: { status: 200, body: { runs: [succeeded, queued] } } });
    const run = await loupe(['train', 'list', '--project', 'Solder joints'], cloud.url);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout.split('\n')).toEqual([
      `${RUN_ID}  2026-12-07T10:00:00.000Z  succeeded     120 labels, accuracy 90.0%, macro-F1 89.0%, candidate v2 awaiting-approval`,
      `${RUN_ID}  2026-12-07T10:00:00.000Z  queued          - labels, accuracy -, macro-F1 -`,
      '',
    ]);
    const json = await loupe(['train', 'list', '--project', 'Solder joints', '--json'], cloud.url);
    expect(JSON.parse(json.stdout)).toEqual([succeeded, queued]);
  });

  it('shows a run with the candidate beside the champion and both confusion matrices', async () => {
    const cloud = await startCloud({ [`GET /api/training-runs/${RUN_ID}`]: { status: 200, body: succeeded } });
    const run = await loupe(['train', 'show', RUN_ID], cloud.url);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('dataset abababababab: 120 labels (90 train, 10 val, 20 test)');
    expect(run.stdout).toMatch(/accuracy\s+90\.0%\s+70\.0%/);
    expect(run.stdout).toMatch(/macro-F1\s+89\.0%\s+65\.0%/);
    expect(run.stdout).toMatch(/confusion matrix of the candidate\n\s+actual \\ predicted\s+ok\s+short\n\s+ok\s+9\s+1\n\s+short\s+1\s+9/);
    expect(run.stdout).toContain('confusion matrix of the champion v1');
  });

  it('approves with a reason and points to the rollout, and rejects', async () => {
    const approved = { ...succeeded, decision: 'approved', rolloutId: 'c3d0a1b2-0000-4000-8000-000000000009' };
    // The cloud answers a decision with the candidate's promotion; the CLI then reads the run.
    const promotion = (decision: string, rolloutId: string | null) => ({ runId: RUN_ID, modelName: 'pcb-aoi', version: 2, decision, rolloutId, events: [] });
    const cloud = await startCloud({
      [`POST /api/training-runs/${RUN_ID}/approve`]: { status: 200, body: promotion('approved', approved.rolloutId) },
      [`POST /api/training-runs/${RUN_ID}/reject`]: { status: 200, body: promotion('rejected', null) },
      [`GET /api/training-runs/${RUN_ID}`]: [
        { status: 200, body: approved },
        { status: 200, body: { ...succeeded, decision: 'rejected' } },
      ],
    });
    const approve = await loupe(['train', 'approve', RUN_ID, '--reason', 'beats v1 on shorts'], cloud.url);
    expect(approve).toMatchObject({ code: ExitCode.ok, stdout: `training run ${RUN_ID}: candidate v2 approved; follow it with: loupe rollout status ${approved.rolloutId} --watch\n` });
    const reject = await loupe(['train', 'reject', RUN_ID], cloud.url);
    expect(reject.stdout).toBe(`training run ${RUN_ID}: candidate v2 rejected\n`);
    expect(cloud.asked.filter((asked) => asked.method === 'POST').map((asked) => asked.body)).toEqual([JSON.stringify({ reason: 'beats v1 on shorts' }), JSON.stringify({ reason: '' })]);
  });
});
