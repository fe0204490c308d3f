import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

/**
 * The wire layout of DesiredState, ModelStats and ReportedState as the
 * previous release's generated code wrote and read them (before package 13,
 * shadow 14 and ModelStats.shadow 11), written out field number by field
 * number so these tests do not lean on today's generated code.
 */

export interface OldModelRef {
  name: string;
  version: string;
  sha256: string;
}

export interface OldDesiredState {
  generation: number;
  model: OldModelRef;
  packageUrl: string;
  packageSize: number;
  packageSha256: string;
  signature: Uint8Array;
  signingKeyId: string;
  rolloutId: string;
  shadowModel?: OldModelRef;
  shadowPackageUrl: string;
  shadowPackageSize: number;
  shadowPackageSha256: string;
}

export interface OldModelStats {
  model: OldModelRef;
  inspections: number;
  errors: number;
  rejects: number;
  uncertain: number;
  confidenceHistogram: number[];
  p99Ms: number;
  shadowModel?: OldModelRef;
  shadowCompared: number;
  shadowDisagreed: number;
}

export interface OldReportedState {
  device: { siteId: string; deviceId: string };
  reportedAtSeconds: number;
  generation: number;
  active?: OldModelRef;
  status: number;
  error: string;
  provider: string;
  runningSha256: string;
  rolloutId: string;
  crashes: number;
}

// proto3 writes a scalar only when it differs from its default.
function scalar(writer: BinaryWriter, field: number, value: string | number | Uint8Array, kind: 'string' | 'uint64' | 'uint32' | 'bytes' | 'double'): void {
  if (value === '' || value === 0 || (value instanceof Uint8Array && value.length === 0)) return;
  if (kind === 'string') writer.uint32((field << 3) | 2).string(value as string);
  else if (kind === 'bytes') writer.uint32((field << 3) | 2).bytes(value as Uint8Array);
  else if (kind === 'double') writer.uint32((field << 3) | 1).double(value as number);
  else if (kind === 'uint32') writer.uint32(field << 3).uint32(value as number);
  else writer.uint32(field << 3).uint64(value as number);
}

function modelRef(writer: BinaryWriter, field: number, ref: OldModelRef | undefined): void {
  if (!ref) return;
  writer.uint32((field << 3) | 2).fork();
  scalar(writer, 1, ref.name, 'string');
  scalar(writer, 2, ref.version, 'string');
  scalar(writer, 3, ref.sha256, 'string');
  writer.join();
}

export function encodeOldDesiredState(desired: OldDesiredState): Uint8Array {
  const writer = new BinaryWriter();
  scalar(writer, 1, desired.generation, 'uint64');
  modelRef(writer, 2, desired.model);
  scalar(writer, 3, desired.packageUrl, 'string');
  scalar(writer, 4, desired.packageSize, 'uint64');
  scalar(writer, 5, desired.packageSha256, 'string');
  scalar(writer, 6, desired.signature, 'bytes');
  scalar(writer, 7, desired.signingKeyId, 'string');
  scalar(writer, 8, desired.rolloutId, 'string');
  modelRef(writer, 9, desired.shadowModel);
  scalar(writer, 10, desired.shadowPackageUrl, 'string');
  scalar(writer, 11, desired.shadowPackageSize, 'uint64');
  scalar(writer, 12, desired.shadowPackageSha256, 'string');
  return writer.finish();
}

function readModelRef(reader: BinaryReader): OldModelRef {
  const end = reader.uint32() + reader.pos;
  const ref: OldModelRef = { name: '', version: '', sha256: '' };
  while (reader.pos < end) {
    const [field, wireType] = reader.tag();
    if (field === 1) ref.name = reader.string();
    else if (field === 2) ref.version = reader.string();
    else if (field === 3) ref.sha256 = reader.string();
    else reader.skip(wireType);
  }
  return ref;
}

/** What a box on the previous release reads from a DesiredState: unknown fields are skipped, as its generated decoder does. */
export function decodeOldDesiredState(bytes: Uint8Array): OldDesiredState {
  const reader = new BinaryReader(bytes);
  const old: OldDesiredState = {
    generation: 0,
    model: { name: '', version: '', sha256: '' },
    packageUrl: '',
    packageSize: 0,
    packageSha256: '',
    signature: new Uint8Array(0),
    signingKeyId: '',
    rolloutId: '',
    shadowPackageUrl: '',
    shadowPackageSize: 0,
    shadowPackageSha256: '',
  };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) old.generation = Number(reader.uint64());
    else if (field === 2) old.model = readModelRef(reader);
    else if (field === 3) old.packageUrl = reader.string();
    else if (field === 4) old.packageSize = Number(reader.uint64());
    else if (field === 5) old.packageSha256 = reader.string();
    else if (field === 6) old.signature = reader.bytes();
    else if (field === 7) old.signingKeyId = reader.string();
    else if (field === 8) old.rolloutId = reader.string();
    else if (field === 9) old.shadowModel = readModelRef(reader);
    else if (field === 10) old.shadowPackageUrl = reader.string();
    else if (field === 11) old.shadowPackageSize = Number(reader.uint64());
    else if (field === 12) old.shadowPackageSha256 = reader.string();
    else reader.skip(wireType);
  }
  return old;
}

export function encodeOldModelStats(stats: OldModelStats): Uint8Array {
  const writer = new BinaryWriter();
  modelRef(writer, 1, stats.model);
  scalar(writer, 2, stats.inspections, 'uint64');
  scalar(writer, 3, stats.errors, 'uint64');
  scalar(writer, 4, stats.rejects, 'uint64');
  scalar(writer, 5, stats.uncertain, 'uint64');
  writer.uint32((6 << 3) | 2).fork();
  for (const bin of stats.confidenceHistogram) writer.uint64(bin);
  writer.join();
  scalar(writer, 7, stats.p99Ms, 'double');
  modelRef(writer, 8, stats.shadowModel);
  scalar(writer, 9, stats.shadowCompared, 'uint64');
  scalar(writer, 10, stats.shadowDisagreed, 'uint64');
  return writer.finish();
}

export function encodeOldReportedState(report: OldReportedState): Uint8Array {
  const writer = new BinaryWriter();
  writer.uint32((1 << 3) | 2).fork();
  scalar(writer, 1, report.device.siteId, 'string');
  scalar(writer, 2, report.device.deviceId, 'string');
  writer.join();
  writer.uint32((2 << 3) | 2).fork();
  scalar(writer, 1, report.reportedAtSeconds, 'uint64');
  writer.join();
  scalar(writer, 3, report.generation, 'uint64');
  modelRef(writer, 4, report.active);
  scalar(writer, 7, report.status, 'uint32');
  scalar(writer, 8, report.error, 'string');
  scalar(writer, 9, report.provider, 'string');
  scalar(writer, 10, report.runningSha256, 'string');
  scalar(writer, 11, report.rolloutId, 'string');
  scalar(writer, 12, report.crashes, 'uint32');
  return writer.finish();
}
