import { globalOptionHelp, type Command, type CommandGroup, type OptionHelp } from './command';

const EXIT_CODES =
  'Exit codes: 0 ok, 2 usage error, 3 the cloud refused the request, 4 no usable answer from the cloud, 5 a run the command waited for failed or was cancelled.';

/** `loupe --help`: every command. */
export function mainUsage(groups: readonly CommandGroup[]): string {
  const commands = groups.flatMap((group) =>
    group.commands.map((command): OptionHelp => [`${group.name} ${command.name}`, command.summary]),
  );
  return page([
    'Usage: loupe <group> <command> [options]',
    section('Commands:', commands),
    section('Options:', globalOptionHelp),
    'Run "loupe <group> <command> --help" for the options of one command.\n' + EXIT_CODES,
  ]);
}

/** `loupe fleet --help`: the commands of one group. */
export function groupUsage(group: CommandGroup): string {
  return page([
    `Usage: loupe ${group.name} <command> [options]`,
    group.summary,
    section(
      'Commands:',
      group.commands.map((command): OptionHelp => [command.name, command.summary]),
    ),
    section('Options:', globalOptionHelp),
  ]);
}

/** `loupe fleet list --help`: one command's options. */
export function commandUsage(group: CommandGroup, command: Command): string {
  const args = command.arguments ?? [];
  return page([
    `Usage: loupe ${group.name} ${command.name}${args.map(([name]) => ` ${name}`).join('')} [options]`,
    command.summary,
    ...(args.length > 0 ? [section('Arguments:', args)] : []),
    section('Options:', [...command.optionHelp, ...globalOptionHelp]),
    EXIT_CODES,
  ]);
}

function page(paragraphs: readonly string[]): string {
  return `${paragraphs.join('\n\n')}\n`;
}

function section(title: string, entries: readonly OptionHelp[]): string {
  const width = Math.max(...entries.map(([name]) => name.length));
  return [title, ...entries.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`)].join('\n');
}
