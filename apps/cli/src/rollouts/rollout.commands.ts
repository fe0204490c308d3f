import { readFile } from 'node:fs/promises';
import type { RolloutDto } from '@loupe/api-contracts';
import type { CliIo } from '../cli-io';
import type { Command, CommandGroup, OptionHelp } from '../command';
import { UsageError } from '../exit-code';
import { formatRollout } from './rollout-report';

const FINAL_STATES = new Set(['succeeded', 'rolled_back', 'aborted']);
const WATCH_INTERVAL_MS = 2_000;

const jsonOption = { json: { type: 'boolean' } } as const;
const jsonHelp: OptionHelp = ['--json', 'Print the result as JSON, for scripts'];

function wholeNumber(text: string | undefined, what: string, help: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${what} must be a whole number from 1 (got "${text}")`, help);
  return value;
}

/**
 * The plan from --plan (a JSON file), or else from the quick flags: named
 * canaries first, then one stage per percentage, each baking --bake seconds.
 * The cloud checks the plan either way and names what to fix.
 */
async function planFrom(values: { plan?: string; canary?: string; percent?: string; bake?: string; 'max-updating'?: string }, help: string): Promise<unknown> {
  if (values.plan) {
    try {
      return JSON.parse(await readFile(values.plan, 'utf8')) as unknown;
    } catch (error) {
      throw new UsageError(`--plan ${values.plan} is not a readable JSON file: ${(error as Error).message}`, help);
    }
  }
  const bakeSeconds = values.bake === undefined ? 600 : Number(values.bake);
  if (!Number.isInteger(bakeSeconds) || bakeSeconds < 0) throw new UsageError(`--bake must be whole seconds (got "${values.bake}")`, help);
  const canaries = values.canary ? values.canary.split(',').map((key) => key.trim()) : [];
  const percents = (values.percent ?? '100').split(',').map((text) => Number(text.trim()));
  const stages = [
    ...(canaries.length > 0 ? [{ name: 'canary', devices: canaries, bakeSeconds }] : []),
    ...percents.map((percent) => ({ name: `${percent}%`, percent, bakeSeconds })),
  ];
  return { stages, ...(values['max-updating'] ? { maxUpdating: Number(values['max-updating']) } : {}) };
}

const printRollout = (io: CliIo, rollout: RolloutDto, json: boolean | undefined) =>
  io.stdout(json ? `${JSON.stringify(rollout, null, 2)}\n` : `rollout ${rollout.id}: ${rollout.modelName} ${rollout.fromVersion} -> ${rollout.toVersion}, ${rollout.state}, stage ${rollout.stage + 1} of ${rollout.plan.stages.length} (${rollout.plan.stages[rollout.stage]?.name ?? '-'})${rollout.reason ? `: ${rollout.reason}` : ''}\n`);

const startOptions = {
  ...jsonOption,
  group: { type: 'string' },
  plan: { type: 'string' },
  canary: { type: 'string' },
  percent: { type: 'string' },
  bake: { type: 'string' },
  'max-updating': { type: 'string' },
  from: { type: 'string' },
} as const;

const start: Command<typeof startOptions> = {
  name: 'start',
  summary: 'Start a staged rollout of a model version to a fleet group',
  arguments: [
    ['<model>', 'The model name in the registry'],
    ['<version>', 'The version to roll out'],
  ],
  options: startOptions,
  optionHelp: [
    ['--group <name>', 'The fleet group (default: default)'],
    ['--plan <file>', 'A JSON rollout plan (stages, maxUpdating, gates); see docs/rollouts.md'],
    ['--canary <site/device,...>', 'Without --plan: canary devices, the first stage'],
    ['--percent <p,...>', 'Without --plan: the share of the group after each later stage (default 100; the last must be 100)'],
    ['--bake <seconds>', 'Without --plan: how long each stage runs before its gates judge it (default 600)'],
    ['--max-updating <n>', 'Without --plan: devices updating at once (default 50)'],
    ['--from <version>', 'The version to compare with and return to (default: what most of the group runs)'],
    jsonHelp,
  ],
  async run(values, { io, cloud }, [model, versionText]) {
    const help = 'Run "loupe rollout start --help".';
    const version = wholeNumber(versionText, '<version>', help);
    const plan = await planFrom(values, help);
    const rollout = await cloud.startRollout({
      model: model!,
      version,
      fleetGroup: values.group ?? 'default',
      plan,
      ...(values.from === undefined ? {} : { fromVersion: wholeNumber(values.from, '--from', help) }),
    });
    printRollout(io, rollout, values.json);
    if (!values.json) io.stdout(`follow it with: loupe rollout status ${rollout.id} --watch\n`);
  },
};

const statusOptions = { ...jsonOption, watch: { type: 'boolean' } } as const;

const status: Command<typeof statusOptions> = {
  name: 'status',
  summary: 'Show a rollout: stages, devices, both cohorts side by side, gates and events',
  arguments: [['<rollout-id>', 'As printed by "loupe rollout start" or "loupe rollout list"']],
  options: statusOptions,
  optionHelp: [['--watch', 'Print it again every 2 s until the rollout ends'], jsonHelp],
  async run(values, { io, cloud }, [id]) {
    for (;;) {
      const rollout = await cloud.rollout(id!);
      io.stdout(values.json ? `${JSON.stringify(rollout, null, 2)}\n` : formatRollout(rollout));
      if (!values.watch || FINAL_STATES.has(rollout.state)) return;
      await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
      if (!values.json) io.stdout('\n');
    }
  },
};

const list: Command<typeof jsonOption> = {
  name: 'list',
  summary: 'List the latest rollouts, newest first',
  options: jsonOption,
  optionHelp: [jsonHelp],
  async run(values, { io, cloud }) {
    const { rollouts } = await cloud.listRollouts();
    if (values.json) return io.stdout(`${JSON.stringify(rollouts, null, 2)}\n`);
    if (rollouts.length === 0) return io.stdout('No rollouts yet: start one with "loupe rollout start <model> <version>"\n');
    for (const rollout of rollouts) printRollout(io, rollout, false);
  },
};

const commandOptions = { ...jsonOption, reason: { type: 'string' } } as const;

function personCommand(name: 'pause' | 'resume' | 'abort' | 'promote', summary: string, reasonRequired: boolean): Command<typeof commandOptions> {
  return {
    name,
    summary,
    arguments: [['<rollout-id>', 'The rollout']],
    options: commandOptions,
    optionHelp: [['--reason <text>', `Why, for the audit log${reasonRequired ? ' (required)' : ''}`], jsonHelp],
    async run(values, { io, cloud }, [id]) {
      if (reasonRequired && !values.reason) throw new UsageError('--reason is required: say why, for the audit log', `Run "loupe rollout ${name} --help".`);
      printRollout(io, await cloud.rolloutCommand(id!, name, values.reason ?? ''), values.json);
    },
  };
}

/** `loupe rollout ...`: staged model rollouts to the fleet. */
export const rolloutCommands: CommandGroup = {
  name: 'rollout',
  summary: 'Staged model rollouts with canary gates and automatic rollback',
  commands: [
    start,
    status,
    list,
    personCommand('pause', 'Pause a running rollout: no more devices are asked to update', false),
    personCommand('resume', 'Resume a paused rollout; its bake and timeouts start again', false),
    personCommand('abort', 'Abort a rollout: every device it touched returns to the old version', true),
    personCommand('promote', 'Move a rollout past its current stage without waiting for bake and gates', true),
  ],
};
