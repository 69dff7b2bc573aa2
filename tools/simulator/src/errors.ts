import { defineErrors } from '@calwatch/model';

/** Errors of the fleet simulator: all are caller mistakes, none is worth retrying. */
export const SIMULATOR_ERRORS = defineErrors({
  SIMULATOR_CONFIG_INVALID: {
    description: 'The simulation settings failed validation; the message lists every problem. Fix the options and run again.',
    retriable: false,
  },
  SIMULATOR_MIX_INVALID: {
    description: 'The --mix text could not be read; see docs/simulator.md for the syntax (e.g. cloned=3x8,vdi=20).',
    retriable: false,
  },
  SIMULATOR_FLEET_TOO_SMALL: {
    description: 'The leak scenarios of the mix need more machines than --devices; raise --devices or shrink the mix.',
    retriable: false,
  },
  SIMULATOR_OUTPUT_NOT_EMPTY: {
    description: 'The output directory already holds files; a run never mixes its files with older ones. Pick an empty or new directory.',
    retriable: false,
  },
});
