import type { DeviceDto } from '@loupe/api-contracts';
import { describe, expect, it } from 'vitest';
import { initialFleetState, nextFleetState } from './fleet-state';

const device: DeviceDto = {
  siteId: 'plant-7',
  deviceId: 'aoi-03',
  agentVersion: '0.1.0',
  model: null,
  provider: null,
  firstSeenAt: '2026-11-22T10:00:00.000Z',
  lastSeenAt: '2026-11-22T10:05:00.000Z',
};

describe('nextFleetState', () => {
  it('starts out loading', () => {
    expect(initialFleetState).toEqual({ status: 'loading' });
  });

  it('shows the devices of a successful poll', () => {
    expect(nextFleetState(initialFleetState, { type: 'received', devices: [device] })).toEqual({
      status: 'loaded',
      devices: [device],
      problem: null,
    });
  });

  it('fails when the first poll fails', () => {
    expect(nextFleetState(initialFleetState, { type: 'failed', problem: 'Cannot reach the cloud.' })).toEqual({
      status: 'failed',
      problem: 'Cannot reach the cloud.',
    });
  });

  it('keeps the devices it has when a later poll fails, and says so', () => {
    const loaded = nextFleetState(initialFleetState, { type: 'received', devices: [device] });
    expect(nextFleetState(loaded, { type: 'failed', problem: 'Cannot reach the cloud.' })).toEqual({
      status: 'loaded',
      devices: [device],
      problem: 'Cannot reach the cloud.',
    });
  });

  it('clears the problem once a poll succeeds again', () => {
    const failed = nextFleetState(initialFleetState, { type: 'failed', problem: 'Cannot reach the cloud.' });
    expect(nextFleetState(failed, { type: 'received', devices: [] })).toEqual({
      status: 'loaded',
      devices: [],
      problem: null,
    });
  });
});
