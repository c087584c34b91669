/**
 * `tablestore-timeline`: store and sync instant-messaging messages with the Timeline model.
 *
 * The root entry holds the core (`TimelineStore`, `Timeline`, errors, codec), the in-memory
 * backend and the IM helpers. It never loads the `tablestore` SDK: the TableStore backend lives in
 * `tablestore-timeline/tablestore`.
 *
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './backends/memory/index.js';
export * from './im/index.js';
