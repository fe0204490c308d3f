import type { parseArgs, ParseArgsConfig } from 'node:util';
import type { CliIo } from './cli-io';
import type { CloudClient } from './cloud/cloud-client';

/** The `options` of node:util parseArgs, which @types/node does not export by name. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts, before or after the command's name. */
export const globalOptions = {
  'cloud-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies CommandOptions;

export const globalOptionHelp: readonly OptionHelp[] = [
  ['--cloud-url <url>', 'The Loupe cloud to talk to (default: $LOUPE_CLOUD_URL, else http://127.0.0.1:8080)'],
  ['$LOUPE_TOKEN', 'Your session token, from POST /api/auth/login on the cloud'],
  ['-h, --help', 'Show this help'],
];

/** A flag as written in help, and what it does. */
export type OptionHelp = readonly [flag: string, description: string];

export type OptionValues<Options extends CommandOptions> = ReturnType<
  typeof parseArgs<{ options: Options & typeof globalOptions; strict: true; allowPositionals: false }>
>['values'];

export interface CommandContext {
  io: CliIo;
  cloud: CloudClient;
}

/** One `loupe <group> <name>` command, e.g. `loupe fleet list`. */
export interface Command<Options extends CommandOptions = CommandOptions> {
  name: string;
  summary: string;
  /** Its arguments after the name, all required, as written in help: `<name>`, and what each is. */
  arguments?: readonly OptionHelp[];
  /** The command's own options; the global ones are added to them. */
  options: Options;
  optionHelp: readonly OptionHelp[];
  run(values: OptionValues<Options>, context: CommandContext, args: readonly string[]): Promise<void>;
}

/** The commands about one domain concept, e.g. `fleet`; each group has its own file. */
export interface CommandGroup {
  name: string;
  summary: string;
  commands: readonly Command[];
}
