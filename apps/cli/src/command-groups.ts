import type { CommandGroup } from './command';
import { datasetCommands } from './dataset/dataset.commands';
import { fleetCommands } from './fleet/fleet.commands';
import { modelCommands } from './models/model.commands';
import { rolloutCommands } from './rollouts/rollout.commands';
import { sessionCommands } from './session/session.commands';
import { trainCommands } from './training/train.commands';

/** Every `loupe <group>`; a new group is one file and one line here. */
export const commandGroups: readonly CommandGroup[] = [sessionCommands, fleetCommands, datasetCommands, modelCommands, rolloutCommands, trainCommands];
