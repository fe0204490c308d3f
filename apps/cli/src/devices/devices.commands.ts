import type { Command, CommandGroup } from '../command';
import { formatDeviceTable } from './device-table';

const EMPTY_FLEET = 'No devices yet: start an edge agent, see README\n';

const jsonOption = { json: { type: 'boolean' } } as const;

const list: Command<typeof jsonOption> = {
  name: 'list',
  summary: 'List the edge devices the cloud has heard from, with what they run',
  options: jsonOption,
  optionHelp: [['--json', 'Print the response as JSON, for scripts']],
  async run(values, { io, cloud }) {
    const response = await cloud.listDevices();
    if (values.json === true) io.stdout(`${JSON.stringify(response, null, 2)}\n`);
    else if (response.devices.length === 0) io.stdout(EMPTY_FLEET);
    else io.stdout(formatDeviceTable(response.devices, io.now()));
  },
};

/** `loupe devices ...`: the fleet of edge devices. */
export const devicesCommands: CommandGroup = {
  name: 'devices',
  summary: 'The edge devices reporting to the cloud',
  commands: [list],
};
