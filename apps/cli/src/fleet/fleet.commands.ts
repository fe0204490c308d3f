import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { envDurationMs } from '@loupe/config';
import type { MosquittoConfigResponse } from '@loupe/api-contracts';
import type { Command, CommandGroup, OptionHelp } from '../command';
import { UsageError } from '../exit-code';
import { list, show } from './device.commands';

const jsonOption = { json: { type: 'boolean' } } as const;
const jsonHelp: OptionHelp = ['--json', 'Print the result as JSON, for scripts'];
const deviceArguments: readonly OptionHelp[] = [
  ['<site>', 'The site id (SITE_ID on the box)'],
  ['<device>', 'The device id (DEVICE_ID on the box)'],
];

function ttlSeconds(text: string | undefined, help: string): number | undefined {
  if (text === undefined) return undefined;
  const parsed = envDurationMs().safeParse(text);
  if (!parsed.success) throw new UsageError(`--ttl must be a duration such as 30m, 24h (got "${text}")`, help);
  return Math.round(parsed.data / 1000);
}

function port(text: string | undefined, fallback: number, flag: string, help: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new UsageError(`${flag} must be a port number from 1 to 65535 (got "${text}")`, help);
  return value;
}

const tokenOptions = { ...jsonOption, group: { type: 'string' }, ttl: { type: 'string' } } as const;

const token: Command<typeof tokenOptions> = {
  name: 'token',
  summary: 'Make a one-time enrollment token for one box (admin or engineer)',
  arguments: deviceArguments,
  options: tokenOptions,
  optionHelp: [
    ['--group <name>', 'The fleet group the box joins, which decides the rollouts that reach it (default: default)'],
    ['--ttl <duration>', 'How long the token stays usable, e.g. 30m, 24h (default 24h, at most 30 days)'],
    jsonHelp,
  ],
  async run(values, { io, cloud }, [siteId, deviceId]) {
    const ttl = ttlSeconds(values.ttl, 'Run "loupe fleet token --help".');
    const created = await cloud.createEnrollmentToken({
      siteId: siteId!,
      deviceId: deviceId!,
      ...(values.group === undefined ? {} : { fleetGroup: values.group }),
      ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
    });
    if (values.json === true) return io.stdout(`${JSON.stringify(created, null, 2)}\n`);
    io.stdout(
      [
        `Enrollment token for ${created.siteId}/${created.deviceId} (fleet group ${created.fleetGroup}), usable once until ${created.expiresAt}:`,
        '',
        `  ${created.token}`,
        '',
        'On the box, set ENROLLMENT_TOKEN to it and CLOUD_URL to this cloud, with the same SITE_ID and DEVICE_ID.',
        'It is shown only now; the cloud keeps only its hash.',
        '',
      ].join('\n'),
    );
  },
};

const revoke: Command<typeof jsonOption> = {
  name: 'revoke',
  summary: "Revoke a box's credentials (admin)",
  arguments: deviceArguments,
  options: jsonOption,
  optionHelp: [jsonHelp],
  async run(values, { io, cloud }, [siteId, deviceId]) {
    const revoked = await cloud.revokeDevice(siteId!, deviceId!);
    if (values.json === true) return io.stdout(`${JSON.stringify(revoked, null, 2)}\n`);
    io.stdout(
      `Revoked ${revoked.siteId}/${revoked.deviceId} at ${revoked.revokedAt}. The embedded broker has disconnected it; ` +
        'on Mosquitto, run "loupe fleet mosquitto-config" again and reload Mosquitto.\n',
    );
  },
};

/** Replaces `path` whole: written beside it with its final mode, then renamed over it, so Mosquitto never reads half a file. */
async function writeReplacing(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The umask may have narrowed the mode at creation.
  await chmod(temporary, mode);
  await rename(temporary, path);
}

async function writeConfig(out: string, config: MosquittoConfigResponse): Promise<void> {
  await mkdir(join(out, 'data'), { recursive: true });
  for (const file of config.files) await writeReplacing(join(out, file.name), file.content, file.mode);
}

const mosquittoOptions = {
  out: { type: 'string' },
  'broker-dir': { type: 'string' },
  'device-port': { type: 'string' },
  'service-port': { type: 'string' },
} as const;

const mosquittoConfig: Command<typeof mosquittoOptions> = {
  name: 'mosquitto-config',
  summary: "Write Mosquitto's configuration, password and ACL files for the enrolled devices (admin)",
  options: mosquittoOptions,
  optionHelp: [
    ['--out <dir>', 'Where to write mosquitto.conf, devices.passwd, devices.acl, service.passwd and service.acl (required)'],
    ['--broker-dir <path>', 'Where the files will be on the broker host, if not at --out (mosquitto.conf names them by absolute path)'],
    ['--device-port <port>', 'The listener devices connect to (default 1883)'],
    ['--service-port <port>', "The cloud's own listener, to keep off the devices' network (default 1885)"],
  ],
  async run(values, { io, cloud }) {
    const help = 'Run "loupe fleet mosquitto-config --help".';
    if (!values.out) throw new UsageError('--out <dir> is required: the folder to write the files to', help);
    const out = resolve(values.out);
    const config = await cloud.mosquittoConfig({
      directory: values['broker-dir'] ?? out,
      devicePort: port(values['device-port'], 1883, '--device-port', help),
      servicePort: port(values['service-port'], 1885, '--service-port', help),
    });
    await writeConfig(out, config);
    io.stdout(
      [
        `Wrote ${config.files.map((file) => file.name).join(', ')} to ${out}, for ${config.devices} enrolled device${config.devices === 1 ? '' : 's'}.`,
        `Start Mosquitto with "mosquitto -c ${join(values['broker-dir'] ?? out, 'mosquitto.conf')}", or reload a running one (SIGHUP) to apply new passwords and ACLs.`,
        '',
      ].join('\n'),
    );
  },
};

/** `loupe fleet ...`: the edge devices, their identity on the broker. */
export const fleetCommands: CommandGroup = {
  name: 'fleet',
  summary: 'List and show the edge devices, enroll and revoke them, and configure the broker for them',
  commands: [list, show, token, revoke, mosquittoConfig],
};
