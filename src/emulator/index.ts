/**
 * A local TableStore emulator: a real HTTP server speaking TableStore's protocol (protobuf
 * bodies, PlainBuffer rows, signed requests) that the official `tablestore` Node SDK talks to
 * unchanged, with fault injection, statistics and optional persistence.
 *
 * This entry never loads the `tablestore` package.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'tablestore-timeline/emulator';
 *
 * const emu = await startEmulator({ port: 0 });
 * emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSServerBusy', times: 3 });
 * console.log(emu.endpoint, emu.stats());
 * await emu.close();
 * ```
 *
 * @packageDocumentation
 */
export { startEmulator, EMULATOR_DEFAULTS, CONTROL_PREFIX } from './emulator.js';
export type { Emulator, EmulatorOptions, EmulatorStats, EmulatorDefaults, SdkClientConfig, EmulatorConnection } from './emulator.js';
export { FaultController } from './faults.js';
export type { FaultSpec, FaultInfo, RowErrorSpec, RowProbability, DropMode, HoldMode } from './faults.js';
export { SUPPORTED_APIS, LIMITS } from './limits.js';
export type { SupportedApi, EmulatorLimits } from './limits.js';
export { OTS_ERROR_STATUS } from './errors.js';
export { EmulatorOptionError } from './option-error.js';
