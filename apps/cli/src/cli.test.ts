import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io';
import { runCli } from './cli';
import { ExitCode } from './exit-code';

/** Runs `loupe` in-process against a cloud that always answers with an empty fleet. */
async function loupe(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const requested: string[] = [];
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    fetch: (input) => {
      requested.push(input instanceof Request ? input.url : input.toString());
      return Promise.resolve(Response.json({ devices: [] }));
    },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    now: () => new Date('2026-11-22T12:00:00.000Z'),
    env,
  };
  const exitCode = await runCli(argv, io);
  return { exitCode, stdout, stderr, requested };
}

describe('loupe command line', () => {
  it('lists every command on --help without calling the cloud', async () => {
    const run = await loupe(['--help']);
    expect(run).toMatchObject({ exitCode: ExitCode.ok, stderr: '', requested: [] });
    expect(run.stdout).toMatch(/^Usage: loupe <group> <command>/);
    expect(run.stdout).toContain('fleet list');
  });

  it('shows the options of one command on its --help', async () => {
    const run = await loupe(['fleet', 'list', '-h']);
    expect(run).toMatchObject({ exitCode: ExitCode.ok, requested: [] });
    expect(run.stdout).toMatch(/^Usage: loupe fleet list \[options\]/);
    expect(run.stdout).toContain('--json');
  });

  it('shows the commands of a group on its --help', async () => {
    const run = await loupe(['fleet', '--help']);
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.stdout).toMatch(/^Usage: loupe fleet <command>/);
  });

  it.each([
    [[], 'loupe: missing command\nUsage: loupe'],
    [['--bogus'], "loupe: Unknown option '--bogus'\nRun \"loupe --help\""],
    [['fleets'], 'loupe: unknown command "fleets"\nRun "loupe --help" to see the commands.'],
    [['fleet'], 'loupe: "loupe fleet" needs a command\nUsage: loupe fleet <command>'],
    [['fleet', 'remove'], 'loupe: unknown command "loupe fleet remove"\nRun "loupe fleet --help"'],
    [['fleet', 'list', '--bogus'], "loupe: Unknown option '--bogus'\nRun \"loupe fleet list --help\""],
    [['fleet', 'list', 'plant-7'], "loupe: Unexpected argument 'plant-7'"],
    [['fleet', 'list', '--json=yes'], "loupe: Option '--json' does not take an argument"],
    [['fleet', 'list', '--cloud-url'], "loupe: Option '--cloud-url <value>' argument missing"],
    [['fleet', 'list', '--cloud-url', 'cloud:8080'], 'loupe: --cloud-url must be a URL starting with http://, https:// (got "cloud:8080")'],
  ])('refuses %j with exit code 2 and says what to fix', async (argv, message) => {
    const run = await loupe(argv);
    expect(run).toMatchObject({ exitCode: ExitCode.usage, stdout: '', requested: [] });
    expect(run.stderr).toContain(message);
  });

  it('asks the local development cloud by default', async () => {
    const run = await loupe(['fleet', 'list']);
    expect(run.requested).toEqual(['http://127.0.0.1:8080/api/fleet/devices']);
  });

  it('asks the cloud named by LOUPE_CLOUD_URL, keeping its path prefix', async () => {
    const run = await loupe(['fleet', 'list'], { LOUPE_CLOUD_URL: 'https://factory.example/loupe' });
    expect(run.requested).toEqual(['https://factory.example/loupe/api/fleet/devices']);
  });

  it('prefers --cloud-url over LOUPE_CLOUD_URL, before or after the command', async () => {
    const env = { LOUPE_CLOUD_URL: 'http://from-env:8080' };
    const after = await loupe(['fleet', 'list', '--cloud-url', 'http://from-flag:9000'], env);
    const before = await loupe(['--cloud-url=http://from-flag:9000', 'fleet', 'list'], env);
    expect([...after.requested, ...before.requested]).toEqual([
      'http://from-flag:9000/api/fleet/devices',
      'http://from-flag:9000/api/fleet/devices',
    ]);
  });

  it('names LOUPE_CLOUD_URL when it is not a URL, and lets --cloud-url work around it', async () => {
    const broken = await loupe(['fleet', 'list'], { LOUPE_CLOUD_URL: 'cloud' });
    expect(broken.exitCode).toBe(ExitCode.usage);
    expect(broken.stderr).toContain('LOUPE_CLOUD_URL must be a URL starting with http://, https:// (got "cloud")');

    const worked = await loupe(['fleet', 'list', '--cloud-url', 'http://cloud:8080'], { LOUPE_CLOUD_URL: 'cloud' });
    expect(worked).toMatchObject({ exitCode: ExitCode.ok, requested: ['http://cloud:8080/api/fleet/devices'] });
  });
});
