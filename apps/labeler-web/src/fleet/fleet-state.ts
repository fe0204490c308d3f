import type { DeviceDto } from '@loupe/api-contracts';

/** What the Fleet page knows. `problem` is the latest failure, for the person looking. */
export type FleetState =
  | { status: 'loading' }
  | { status: 'failed'; problem: string }
  /** `problem` set: the last poll failed and `devices` are from an earlier one. */
  | { status: 'loaded'; devices: readonly DeviceDto[]; problem: string | null };

export type FleetEvent = { type: 'received'; devices: readonly DeviceDto[] } | { type: 'failed'; problem: string };

export const initialFleetState: FleetState = { status: 'loading' };

export function nextFleetState(state: FleetState, event: FleetEvent): FleetState {
  switch (event.type) {
    case 'received':
      return { status: 'loaded', devices: event.devices, problem: null };
    case 'failed':
      // A failed poll keeps what was loaded before: a device list a few
      // seconds old, marked as such, beats an empty page.
      return state.status === 'loaded'
        ? { ...state, problem: event.problem }
        : { status: 'failed', problem: event.problem };
  }
}
