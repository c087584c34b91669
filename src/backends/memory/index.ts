export { MemoryBackend } from './memory-backend.js';
export type { MemoryBackendOptions } from './memory-backend.js';
export { MemoryRecords } from './memory-records.js';
export type { MemoryRecordsHost } from './memory-records.js';
