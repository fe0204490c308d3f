import { hammingDistance } from './difference-hash';
import { novelty } from './feature-spread';
import type { SamplingPolicy } from './sampling-policy';

type MemorySettings = Pick<SamplingPolicy, 'duplicateDistance' | 'duplicateMemory'>;

interface RememberedSelection {
  hash: bigint;
  /** Pooled backbone features, when the model gave them. */
  features?: Float32Array;
}

/**
 * Each station's latest selections: their image hashes and, when the model
 * gives them, their feature vectors. A stopped line or a part left under
 * the camera sends the same scene again and again; one label of it is
 * enough. Past `maxStations` the station seen least recently is forgotten,
 * so a device whose station ids change over months keeps a bounded memory.
 */
export class SelectionMemory {
  /** In order of last sight, least recent first. */
  private readonly stations = new Map<string, RememberedSelection[]>();

  constructor(private readonly maxStations: number) {}

  /** Marks the station as seen now, putting it last in line to be forgotten. */
  touch(stationId: string): void {
    const selections = this.stations.get(stationId);
    if (!selections) return;
    this.stations.delete(stationId);
    this.stations.set(stationId, selections);
  }

  isNearDuplicate(stationId: string, hash: bigint, settings: MemorySettings): boolean {
    return this.recent(stationId, settings).some((earlier) => hammingDistance(earlier.hash, hash) <= settings.duplicateDistance);
  }

  /** How far `features` lie from the station's recent selections; see `novelty`. */
  novelty(stationId: string, features: Float32Array, settings: MemorySettings): number {
    return novelty(features, this.recent(stationId, settings).flatMap((earlier) => (earlier.features ? [earlier.features] : [])));
  }

  remember(stationId: string, selection: RememberedSelection, settings: MemorySettings): void {
    const selections = this.stations.get(stationId) ?? [];
    selections.push(selection);
    selections.splice(0, selections.length - settings.duplicateMemory);
    this.stations.delete(stationId);
    this.stations.set(stationId, selections);
    for (const leastRecent of this.stations.keys()) {
      if (this.stations.size <= this.maxStations) break;
      this.stations.delete(leastRecent);
    }
  }

  private recent(stationId: string, settings: MemorySettings): RememberedSelection[] {
    return (this.stations.get(stationId) ?? []).slice(-settings.duplicateMemory);
  }
}
