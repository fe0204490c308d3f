import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io';
import { CloudClient } from './cloud/cloud-client';
import { resolveCloudUrl } from './cloud/cloud-url';
import { CloudFailedError, CloudRefusedError } from './cloud/cloud.errors';
import { globalOptions, type Command, type CommandGroup, type CommandOptions } from './command';
import { commandGroups } from './command-groups';
import { ExitCode, RunFailedError, UsageError } from './exit-code';
import { commandUsage, groupUsage, mainUsage } from './usage';

/**
 * Runs one `loupe` command line and returns the exit code. Expected failures
 * become one message on stderr; anything else is a bug and is rethrown.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  try {
    await dispatch(argv, io, commandGroups);
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`loupe: ${error.message}\n${error.help.trimEnd()}\n`);
      return ExitCode.usage;
    }
    if (error instanceof CloudRefusedError) {
      io.stderr(`loupe: ${error.message}\n`);
      return ExitCode.refused;
    }
    if (error instanceof CloudFailedError) {
      io.stderr(`loupe: ${error.message}\n`);
      return ExitCode.failed;
    }
    if (error instanceof RunFailedError) {
      io.stderr(`loupe: ${error.message}\n`);
      return ExitCode.runFailed;
    }
    throw error;
  }
}

async function dispatch(argv: readonly string[], io: CliIo, groups: readonly CommandGroup[]): Promise<void> {
  // Global options may come before the command's name, so the names are the
  // first two positionals rather than the first two arguments.
  const { values, tokens } = parseArgs({
    args: [...argv],
    options: globalOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const [groupName, commandName] = tokens.flatMap((token) => (token.kind === 'positional' ? [token] : []));
  const wantsHelp = values.help === true;

  if (groupName === undefined) {
    parseOptions(argv, globalOptions, 'Run "loupe --help" for usage.', false);
    if (wantsHelp) return io.stdout(mainUsage(groups));
    throw new UsageError('missing command', mainUsage(groups));
  }
  const group = findGroup(groups, groupName.value);
  if (commandName === undefined) {
    if (wantsHelp) return io.stdout(groupUsage(group));
    throw new UsageError(`"loupe ${group.name}" needs a command`, groupUsage(group));
  }
  const command = findCommand(group, commandName.value);
  if (wantsHelp) return io.stdout(commandUsage(group, command));

  const commandArgs = argv.filter((_, index) => index !== groupName.index && index !== commandName.index);
  const help = `Run "loupe ${group.name} ${command.name} --help" for its arguments and options.`;
  const { values: commandValues, positionals } = parseOptions(commandArgs, { ...command.options, ...globalOptions }, help, command.arguments !== undefined);
  const expected = command.arguments ?? [];
  if (positionals.length !== expected.length) {
    const wanted = expected.map(([name]) => name).join(' ');
    throw new UsageError(
      positionals.length < expected.length ? `"loupe ${group.name} ${command.name}" needs ${wanted}` : `unexpected argument "${positionals[expected.length]}"`,
      help,
    );
  }
  const cloudUrlFlag = typeof values['cloud-url'] === 'string' ? values['cloud-url'] : undefined;
  const cloud = new CloudClient(resolveCloudUrl(cloudUrlFlag, io.env), io.fetch, io.env.LOUPE_TOKEN || undefined);
  await command.run(commandValues, { io, cloud }, positionals);
}

function findGroup(groups: readonly CommandGroup[], name: string): CommandGroup {
  const group = groups.find((candidate) => candidate.name === name);
  if (group !== undefined) return group;
  throw new UsageError(`unknown command "${name}"`, 'Run "loupe --help" to see the commands.');
}

function findCommand(group: CommandGroup, name: string): Command {
  const command = group.commands.find((candidate) => candidate.name === name);
  if (command !== undefined) return command;
  throw new UsageError(
    `unknown command "loupe ${group.name} ${name}"`,
    `Run "loupe ${group.name} --help" to see its commands.`,
  );
}

function parseOptions<Options extends CommandOptions>(args: readonly string[], options: Options, help: string, allowPositionals: boolean) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    // Node adds lines of advice about `--`; the first line names the problem.
    throw new UsageError(error.message.split('\n')[0] ?? error.message, help);
  }
}

function isParseArgsError(error: unknown): error is Error {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_');
}
