import type { StartTrainingRunRequest, TrainingRunDto } from '@loupe/api-contracts';
import type { CliIo } from '../cli-io';
import type { CloudClient } from '../cloud/cloud-client';
import type { Command, CommandGroup, OptionHelp } from '../command';
import { RunFailedError, UsageError } from '../exit-code';
import { findProject } from './project-ref';
import { formatRun, isActive, progressLine, runLine } from './training-report';

// Training runs take seconds to minutes; once a second keeps the bar moving without loading the cloud.
const WATCH_INTERVAL_MS = 1_000;

const jsonOption = { json: { type: 'boolean' } } as const;
const jsonHelp: OptionHelp = ['--json', 'Print the run as JSON on stdout, for scripts'];
const watchHelp: OptionHelp = ['--watch', 'Follow the run until it ends, its progress on stderr; exit code 5 when it fails or is cancelled'];
const projectHelp: OptionHelp = ['--project <name or id>', 'The labeling project (required)'];

function requiredProject(project: string | undefined, help: string): string {
  if (project === undefined || project === '') throw new UsageError('--project is required: the project to train, by name or id', help);
  return project;
}

/** `--backbone name:version`: a registry model whose manifest names a feature output. */
export function parseBackbone(text: string, help: string): NonNullable<StartTrainingRunRequest['backbone']> {
  const colon = text.lastIndexOf(':');
  const model = text.slice(0, colon);
  const version = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(version) || version < 1) throw new UsageError(`--backbone must be <model>:<version>, e.g. squeezenet-features:1 (got "${text}")`, help);
  return { model, version };
}

/**
 * Asks for the run once a second until it ends, drawing one progress line
 * on stderr. The line is ended however the watch ends, so an error message
 * that follows starts on a line of its own.
 */
async function watch(io: CliIo, cloud: CloudClient, first: TrainingRunDto): Promise<TrainingRunDto> {
  let run = first;
  let drawn = 0;
  try {
    while (isActive(run)) {
      const line = progressLine(run);
      // Spaces over what is left of a longer line drawn before.
      io.stderr(`\r${line.padEnd(drawn)}`);
      drawn = Math.max(drawn, line.length);
      await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
      run = await cloud.trainingRun(run.id);
    }
    return run;
  } finally {
    if (drawn > 0) io.stderr('\n');
  }
}

/** Prints the run, and fails the command when the run did. */
function report(io: CliIo, run: TrainingRunDto, json: boolean | undefined): void {
  io.stdout(json ? `${JSON.stringify(run, null, 2)}\n` : formatRun(run));
  if (run.state === 'failed') throw new RunFailedError(`training run ${run.id} failed: ${run.error ?? 'the cloud gave no reason'}`);
  if (run.state === 'cancelled') throw new RunFailedError(`training run ${run.id} was cancelled`);
}

const startOptions = { ...jsonOption, project: { type: 'string' }, backbone: { type: 'string' }, watch: { type: 'boolean' } } as const;

const start: Command<typeof startOptions> = {
  name: 'start',
  summary: "Train a candidate model on a project's settled labels",
  options: startOptions,
  optionHelp: [projectHelp, ['--backbone <model>:<version>', 'A registry model with a feature output (default: the shipped backbone)'], watchHelp, jsonHelp],
  async run(values, { io, cloud }) {
    const help = 'Run "loupe train start --help".';
    const project = await findProject(cloud, requiredProject(values.project, help), help);
    const request: StartTrainingRunRequest = values.backbone === undefined ? {} : { backbone: parseBackbone(values.backbone, help) };
    const queued = await cloud.startTrainingRun(project.id, request);
    if (!values.watch) {
      io.stdout(values.json ? `${JSON.stringify(queued, null, 2)}\n` : `${runLine(queued)}\nfollow it with: loupe train show ${queued.id} --watch\n`);
      return;
    }
    report(io, await watch(io, cloud, queued), values.json);
  },
};

const showOptions = { ...jsonOption, watch: { type: 'boolean' } } as const;

const show: Command<typeof showOptions> = {
  name: 'show',
  summary: 'Show a training run: progress, dataset, the candidate against the champion, confusion matrices',
  arguments: [['<run-id>', 'As printed by "loupe train start" or "loupe train list"']],
  options: showOptions,
  optionHelp: [watchHelp, jsonHelp],
  async run(values, { io, cloud }, [id]) {
    const run = await cloud.trainingRun(id!);
    if (!values.watch) return io.stdout(values.json ? `${JSON.stringify(run, null, 2)}\n` : formatRun(run));
    report(io, await watch(io, cloud, run), values.json);
  },
};

const listOptions = { ...jsonOption, project: { type: 'string' } } as const;

const list: Command<typeof listOptions> = {
  name: 'list',
  summary: "List a project's training runs",
  options: listOptions,
  optionHelp: [projectHelp, jsonHelp],
  async run(values, { io, cloud }) {
    const help = 'Run "loupe train list --help".';
    const project = await findProject(cloud, requiredProject(values.project, help), help);
    const runs = await cloud.listTrainingRuns(project.id);
    if (values.json) return io.stdout(`${JSON.stringify(runs, null, 2)}\n`);
    if (runs.length === 0) return io.stdout(`No training runs in "${project.name}" yet: start one with "loupe train start --project ${JSON.stringify(project.name)}"\n`);
    for (const run of runs) io.stdout(`${runLine(run)}\n`);
  },
};

const decisionOptions = { ...jsonOption, reason: { type: 'string' } } as const;

function decision(name: 'approve' | 'reject', summary: string): Command<typeof decisionOptions> {
  return {
    name,
    summary,
    arguments: [['<run-id>', 'A run whose candidate awaits approval']],
    options: decisionOptions,
    optionHelp: [['--reason <text>', 'Why, for the audit log'], jsonHelp],
    async run(values, { io, cloud }, [id]) {
      const run = await cloud.decideTrainingRun(id!, name, values.reason ?? '');
      if (values.json) return io.stdout(`${JSON.stringify(run, null, 2)}\n`);
      io.stdout(`training run ${run.id}: candidate v${run.candidateVersion ?? '-'} ${run.decision ?? 'undecided'}${run.rolloutId ? `; follow it with: loupe rollout status ${run.rolloutId} --watch` : ''}\n`);
    },
  };
}

/** `loupe train ...`: candidate models trained on a project's labels. */
export const trainCommands: CommandGroup = {
  name: 'train',
  summary: "Training runs: candidate models from a project's labels, evaluated against the model serving now",
  commands: [
    start,
    list,
    show,
    decision('approve', "Approve a run's candidate: its canary rollout starts"),
    decision('reject', "Reject a run's candidate: it stays in the registry and never rolls out"),
  ],
};
