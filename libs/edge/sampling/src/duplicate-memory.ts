import { hammingDistance } from './difference-hash';
import type { SamplingPolicy } from './sampling-policy';

type DuplicateSettings = Pick<SamplingPolicy, 'duplicateDistance' | 'duplicateMemory'>;

/**
 * Hashes of each station's latest selections. A stopped line or a part left
 * under the camera sends the same scene again and again; one label of it is
 * enough. Past `maxStations` the station seen least recently is forgotten,
 * so a device whose station ids change over months keeps a bounded memory.
 */
export class DuplicateMemory {
  /** In order of last sight, least recent first. */
  private readonly stations = new Map<string, bigint[]>();

  constructor(private readonly maxStations: number) {}

  /** Marks the station as seen now, putting it last in line to be forgotten. */
  touch(stationId: string): void {
    const hashes = this.stations.get(stationId);
    if (!hashes) return;
    this.stations.delete(stationId);
    this.stations.set(stationId, hashes);
  }

  isNearDuplicate(stationId: string, hash: bigint, settings: DuplicateSettings): boolean {
    const hashes = this.stations.get(stationId) ?? [];
    return hashes.slice(-settings.duplicateMemory).some((earlier) => hammingDistance(earlier, hash) <= settings.duplicateDistance);
  }

  remember(stationId: string, hash: bigint, settings: DuplicateSettings): void {
    const hashes = this.stations.get(stationId) ?? [];
    hashes.push(hash);
    hashes.splice(0, hashes.length - settings.duplicateMemory);
    this.stations.delete(stationId);
    this.stations.set(stationId, hashes);
    for (const leastRecent of this.stations.keys()) {
      if (this.stations.size <= this.maxStations) break;
      this.stations.delete(leastRecent);
    }
  }
}
