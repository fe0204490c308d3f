import type { Command, CommandGroup } from '../command';
import { UsageError } from '../exit-code';

const loginOptions = { email: { type: 'string' }, json: { type: 'boolean' } } as const;

const loginCommand: Command<typeof loginOptions> = {
  name: 'login',
  summary: 'Sign in and print your session token as a LOUPE_TOKEN export',
  options: loginOptions,
  optionHelp: [
    ['--email <email>', 'Your email on the cloud (required); the password comes from $LOUPE_PASSWORD, else the first line of standard input'],
    ['--json', 'Print the token, its expiry and your user as JSON'],
  ],
  async run(values, { io, cloud }) {
    const help = 'Run "loupe session login --help".';
    if (!values.email) throw new UsageError('--email is required', help);
    const password = io.env.LOUPE_PASSWORD || (io.readLine ? (await io.readLine()).trim() : '');
    if (!password) throw new UsageError('no password: set LOUPE_PASSWORD or pipe it in on standard input', help);
    const session = await cloud.login(values.email, password);
    if (values.json) return io.stdout(`${JSON.stringify(session)}\n`);
    io.stderr(`signed in as ${session.user.email} (${session.user.role}) until ${session.expiresAt}\n`);
    io.stdout(`export LOUPE_TOKEN=${session.token}\n`);
  },
};

/** `loupe session ...`: signing in, so the other commands can use a token. */
export const sessionCommands: CommandGroup = {
  name: 'session',
  summary: 'Sign in to the cloud (eval "$(loupe session login --email you@example.com)")',
  commands: [loginCommand],
};
