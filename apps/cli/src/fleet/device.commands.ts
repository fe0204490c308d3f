import type { Command, OptionHelp } from '../command';
import { CloudRefusedError } from '../cloud/cloud.errors';
import { formatDeviceDetail, formatDeviceTable } from './device-table';

const EMPTY_FLEET = 'No devices yet: start an edge agent, see README\n';

const jsonHelp: OptionHelp = ['--json', 'Print the result as JSON, for scripts'];
const listOptions = { json: { type: 'boolean' }, group: { type: 'string' } } as const;

/** `loupe fleet list`: every device the cloud enrolled or heard from. */
export const list: Command<typeof listOptions> = {
  name: 'list',
  summary: 'List the edge devices the cloud has enrolled or heard from, with what they run and their model update',
  options: listOptions,
  optionHelp: [['--group <name>', 'Only the devices enrolled in this fleet group'], jsonHelp],
  async run(values, { io, cloud }) {
    const response = await cloud.listDevices(values.group);
    if (values.json === true) io.stdout(`${JSON.stringify(response, null, 2)}\n`);
    else if (response.devices.length === 0) io.stdout(EMPTY_FLEET);
    else io.stdout(formatDeviceTable(response.devices, io.now()));
  },
};

const showOptions = { json: { type: 'boolean' } } as const;

/** `loupe fleet show`: one device, all the cloud knows of it. */
export const show: Command<typeof showOptions> = {
  name: 'show',
  summary: 'Show one edge device: enrollment, telemetry, desired and reported model, statistics',
  arguments: [
    ['<site>', 'The site id (SITE_ID on the box)'],
    ['<device>', 'The device id (DEVICE_ID on the box)'],
  ],
  options: showOptions,
  optionHelp: [jsonHelp],
  async run(values, { io, cloud }, [siteId, deviceId]) {
    const { devices } = await cloud.listDevices();
    const device = devices.find((known) => known.siteId === siteId && known.deviceId === deviceId);
    if (!device) throw new CloudRefusedError(`the cloud knows no device ${siteId}/${deviceId}: it has neither enrolled nor heard from it`);
    if (values.json === true) io.stdout(`${JSON.stringify(device, null, 2)}\n`);
    else io.stdout(formatDeviceDetail(device, io.now()));
  },
};
