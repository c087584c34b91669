/**
 * `tablestore-timeline/testing`: the shared backend contract suite, for this package's backends and
 * for third-party ones. It takes the test framework's functions as arguments and asserts with
 * `node:assert`, so importing it never loads a test framework.
 *
 * @packageDocumentation
 */
export { describeBackendContract } from './contract.js';
export type { ContractFramework, ContractContext, BackendContractOptions } from './contract.js';
export { describeRecordContract } from './records-contract.js';
export type { RecordContractOptions } from './records-contract.js';
export { PassThroughBackend } from './pass-through.js';
