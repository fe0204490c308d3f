import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const read = (name: string) => readFileSync(join(import.meta.dirname, name), 'utf8');

/** `[Section]` -> key -> values, as systemd reads a unit (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const [key, ...value] = line.split('=');
    if (!current || value.length === 0) throw new Error(`not a unit line: ${line}`);
    current.set(key!, [...(current.get(key!) ?? []), value.join('=')]);
  }
  return sections;
}

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|min)?$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * ({ ms: 0.001, s: 1, min: 60 } as Record<string, number>)[match[2] ?? 's']!;
}

describe('deploy/jetson/Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]!);

  it('builds on a pinned L4T JetPack base', () => {
    const external = froms.filter((image) => image.includes('/'));
    expect(external.length).toBeGreaterThan(0);
    for (const image of external) expect(image).toMatch(/^nvcr\.io\/nvidia\/l4t-jetpack:r\d+\.\d+\.\d+$/);
  });

  it('builds onnxruntime with the TensorRT and CUDA providers and the Node binding', () => {
    for (const flag of ['--use_tensorrt', '--use_cuda', '--build_nodejs']) expect(dockerfile).toContain(flag);
  });

  it('runs as a non-root user', () => {
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]!);
    expect(users.at(-1)).toBeDefined();
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // USER must come after the last FROM, or it applies to a build stage only.
    expect(dockerfile.lastIndexOf('\nUSER ')).toBeGreaterThan(dockerfile.lastIndexOf('\nFROM '));
  });

  it('creates the data directories owned by that user and points the agent at them', () => {
    for (const directory of ['models', 'engine-cache', 'outbox', 'credentials']) {
      expect(dockerfile).toMatch(new RegExp(`install -d -o loupe -g loupe[^\\n]*/var/lib/loupe/${directory}`));
    }
    expect(dockerfile).toMatch(/install -d -o loupe -g loupe -m 0700 \/var\/lib\/loupe\/credentials/);
    for (const setting of ['MODELS_DIR', 'TENSORRT_ENGINE_CACHE_DIR', 'OUTBOX_DIR', 'DEVICE_CREDENTIALS_FILE']) {
      expect(dockerfile).toMatch(new RegExp(`${setting}=/var/lib/loupe/`));
    }
  });

  it('holds no secrets', () => {
    expect(dockerfile).not.toMatch(/ENROLLMENT_TOKEN|PASSWORD|SECRET|PRIVATE KEY/);
  });
});

describe('deploy/jetson/loupe-agent.service', () => {
  const unit = parseUnit(read('loupe-agent.service'));
  const service = unit.get('Service')!;
  const one = (key: string) => service.get(key)?.at(-1);

  it('restarts always, as a dedicated user, with the env file', () => {
    expect(one('Restart')).toBe('always');
    expect(one('User')).toBe('loupe');
    expect(one('EnvironmentFile')).toBe('/etc/loupe/agent.env');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('waits longer to kill than the agent takes to stop (SHUTDOWN_TIMEOUT in the env file)', () => {
    const shutdown = /^SHUTDOWN_TIMEOUT=(\S+)$/m.exec(read('agent.env.example'))?.[1];
    expect(shutdown).toBeDefined();
    expect(seconds(one('TimeoutStopSec')!)).toBeGreaterThan(seconds(shutdown!));
  });

  it('is hardened, with only the data directory writable', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(service.get('ReadWritePaths')).toEqual(['/var/lib/loupe']);
  });

  it('points the env file example at the same data directory', () => {
    const example = read('agent.env.example');
    for (const setting of ['MODELS_DIR', 'TENSORRT_ENGINE_CACHE_DIR', 'OUTBOX_DIR', 'DEVICE_CREDENTIALS_FILE', 'REGISTRY_KEYS_FILE']) {
      expect(example).toMatch(new RegExp(`^${setting}=/var/lib/loupe/`, 'm'));
    }
    expect(example).toMatch(/^ENROLLMENT_TOKEN=$/m);
  });
});
