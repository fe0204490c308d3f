export { startTestDatabase, type TestDatabase } from './test-database';
export { startTestBroker, type TestBroker } from './test-broker';
export { startTestObjectStore, type TestObjectStore } from './test-object-store';
export { eventually } from './eventually';
export { uniqueName } from './unique-name';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
export { freePort } from './free-port';
export { discoverViaReflection } from './grpc-reflection-client';
export { bmp24, bmpFromRgb, bmpWithPalette, pngClaimingSize } from './hostile-images';
export {
  damagedVersions,
  encodeImage,
  formatOf,
  IMAGE_ENCODINGS,
  imageLayout,
  type CorpusPlan,
  type DamagedImage,
  type DamageKind,
  type EncodedImage,
  type ImageEncoding,
} from './damaged-images';
export { mosquittoPath, startBrokerProcess, type BrokerProcess } from './broker-process';
export { startCloudProcess, type CloudProcess } from './cloud-process';
export { peakMemoryGrowth, residentMemory } from './process-memory';
export { postLargeBody, type LargeBodyAnswer } from './large-body';
export { describeWhere, itWhere, missingFiles } from './not-run';
export { startObjectStoreProcess, type ObjectStoreProcess } from './object-store-process';
export { postgresProcessUnavailable, startPostgresProcess, type PostgresProcess } from './postgres-process';
export { AppProcess, type AppProcessOptions } from './app-process';
