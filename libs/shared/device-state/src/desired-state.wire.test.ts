import { describe, expect, it } from 'vitest';
import { InvalidDesiredStateError } from './desired-state';
import { parseDesiredState } from './desired-state.wire';
import { describeModel } from './model-version';

/** A DesiredState as ts-proto decodes it. */
function decoded(overrides: Record<string, unknown> = {}) {
  return {
    generation: 7,
    model: { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) },
    packageUrl: 'https://cloud.example/api/fleet/packages/pcb-aoi/2',
    packageSize: 3_145_728,
    packageSha256: 'c'.repeat(64),
    signature: Buffer.from([1, 2, 3]),
    signingKeyId: '0123456789abcdef',
    rolloutId: 'r-1',
    shadowModel: undefined,
    shadowPackageUrl: '',
    shadowPackageSize: 0,
    shadowPackageSha256: '',
    ...overrides,
  };
}

describe('parseDesiredState', () => {
  it('turns a decoded message into what the box acts on', () => {
    expect(parseDesiredState(decoded())).toEqual({
      generation: 7,
      model: { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) },
      package: { url: 'https://cloud.example/api/fleet/packages/pcb-aoi/2', size: 3_145_728, sha256: 'c'.repeat(64) },
      signature: { keyId: '0123456789abcdef', value: 'AQID' },
      rolloutId: 'r-1',
    });
  });

  it('reads the shadow when every shadow field is set', () => {
    const shadowModel = { name: 'pcb-aoi', version: '3', sha256: 'd'.repeat(64) };
    const shadow = { shadowModel, shadowPackageUrl: 'https://cloud.example/api/fleet/packages/pcb-aoi/3', shadowPackageSize: 2_048, shadowPackageSha256: 'e'.repeat(64) };
    expect(parseDesiredState(decoded(shadow)).shadow).toEqual({
      model: shadowModel,
      package: { url: 'https://cloud.example/api/fleet/packages/pcb-aoi/3', size: 2_048, sha256: 'e'.repeat(64) },
    });
  });

  it('accepts a message without a signature', () => {
    expect(parseDesiredState(decoded({ signature: Buffer.alloc(0), signingKeyId: '' })).signature).toBeUndefined();
  });

  it.each([
    ['no model', { model: undefined }, 'model is required'],
    ['a model hash that is not SHA-256', { model: { name: 'pcb-aoi', version: '2', sha256: 'B'.repeat(64) } }, 'model.sha256 must be a lowercase hex SHA-256'],
    ['an empty version', { model: { name: 'pcb-aoi', version: '', sha256: 'b'.repeat(64) } }, 'model.version must be a version'],
    ['a version that would leave its folder', { model: { name: 'pcb-aoi', version: '../../etc', sha256: 'b'.repeat(64) } }, 'model.version must be a version'],
    ['a name with a path separator', { model: { name: 'pcb/aoi', version: '2', sha256: 'b'.repeat(64) } }, 'model.name must be a model name'],
    ['a package URL that is not HTTP', { packageUrl: 'file:///etc/passwd' }, 'packageUrl must be an http:// or https:// URL'],
    ['no package size', { packageSize: 0 }, 'packageSize must be the package size in bytes'],
    ['a short package hash', { packageSha256: 'c'.repeat(63) }, 'packageSha256 must be a lowercase hex SHA-256'],
    ['a signature without its key id', { signingKeyId: '' }, 'signature and signingKeyId come together'],
    ['a malformed key id', { signingKeyId: 'not-a-key' }, 'signingKeyId must be empty or a key id of 16 hex digits'],
    ['a shadow package without its model', { shadowPackageUrl: 'https://cloud.example/p', shadowPackageSize: 10, shadowPackageSha256: 'e'.repeat(64) }, 'shadowModel is required with the other shadow fields'],
    ['a shadow model without its package', { shadowModel: { name: 'pcb-aoi', version: '3', sha256: 'd'.repeat(64) } }, 'shadowPackageUrl must be an http:// or https:// URL'],
    ['a shadow package without its hash', { shadowModel: { name: 'pcb-aoi', version: '3', sha256: 'd'.repeat(64) }, shadowPackageUrl: 'https://cloud.example/p', shadowPackageSize: 10 }, 'shadowPackageSha256 must be a lowercase hex SHA-256'],
    [
      'a model shadowing itself',
      { shadowModel: { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) }, shadowPackageUrl: 'https://cloud.example/p', shadowPackageSize: 10, shadowPackageSha256: 'e'.repeat(64) },
      'shadowModel must differ from model',
    ],
  ])('refuses %s, naming the field', (_name, overrides, message) => {
    expect(() => parseDesiredState(decoded(overrides))).toThrow(InvalidDesiredStateError);
    expect(() => parseDesiredState(decoded(overrides))).toThrow(message);
  });
});

describe('describeModel', () => {
  it('names the model, its version and the start of its hash', () => {
    expect(describeModel({ name: 'pcb-aoi', version: '2', sha256: '3f9c0e51a2b4'.padEnd(64, '0') })).toBe('pcb-aoi 2 (sha256 3f9c0e51a2b4)');
  });
});

describe('parseDesiredState with the package and shadow messages', () => {
  const pkg = { url: 'https://cloud.example/api/fleet/packages/pcb-aoi/2', size: 3_145_728, sha256: 'c'.repeat(64) };
  const shadow = { model: { name: 'pcb-aoi', version: '3', sha256: 'd'.repeat(64) }, package: { url: 'https://cloud.example/p/3', size: 2_048, sha256: 'e'.repeat(64) } };

  it('reads the package and the shadow from their messages', () => {
    const parsed = parseDesiredState(decoded({ packageUrl: '', packageSize: 0, packageSha256: '', package: pkg, shadow }));
    expect(parsed).toMatchObject({ package: pkg, shadow });
  });

  it('prefers the package message over the deprecated fields', () => {
    const parsed = parseDesiredState(decoded({ package: { ...pkg, url: 'https://cloud.example/new' } }));
    expect(parsed.package.url).toBe('https://cloud.example/new');
  });

  it('ignores the deprecated shadow fields when the package message is there', () => {
    const stale = { shadowModel: shadow.model, shadowPackageUrl: 'https://cloud.example/old', shadowPackageSize: 1, shadowPackageSha256: 'f'.repeat(64) };
    expect(parseDesiredState(decoded({ package: pkg, ...stale })).shadow).toBeUndefined();
  });

  it.each([
    ['a package message without a URL', { package: { ...pkg, url: '' } }, 'package.url must be an http:// or https:// URL'],
    ['a shadow message without its model', { package: pkg, shadow: { package: shadow.package } }, 'shadow.model is required'],
    ['a shadow message without its package', { package: pkg, shadow: { model: shadow.model } }, 'shadow.package'],
    ['a shadow of the served model', { package: pkg, shadow: { ...shadow, model: { name: 'pcb-aoi', version: '2', sha256: 'b'.repeat(64) } } }, 'shadow.model must differ from model'],
  ])('refuses %s, naming the field', (_name, overrides, message) => {
    expect(() => parseDesiredState(decoded(overrides))).toThrow(message);
  });
});

describe('parseDesiredState on a previous-release message', () => {
  it('names a nested bad field by its old path', () => {
    const shadow = { shadowModel: { name: 'Bad/Name', version: '3', sha256: 'd'.repeat(64) }, shadowPackageUrl: 'https://cloud.example/p', shadowPackageSize: 10, shadowPackageSha256: 'e'.repeat(64) };
    expect(() => parseDesiredState(decoded(shadow))).toThrow('shadowModel.name must be a model name');
  });
});
