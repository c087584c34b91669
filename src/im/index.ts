// The IM helpers, built only on the core API: the message store, the sync store, write fan-out
// and the hybrid Messenger.
export { StoreTimeline } from './store-timeline.js';
export type { HistoryPageOptions, HistorySinceOptions, HistoryPage } from './store-timeline.js';
export { SyncTimeline } from './sync-timeline.js';
export type { SyncTimelineOptions, SyncOptions, SyncResult } from './sync-timeline.js';
export type { CursorSecret } from './cursor.js';
export { fanOut, retryFanOut } from './fan-out.js';
export type { FanOutOptions, RetryFanOutOptions, FanOutDelivery, FanOutFailure, FanOutResult } from './fan-out.js';
export { Messenger, DEFAULT_RECALL_WINDOW_MS } from './messenger.js';
export type {
  MessengerOptions,
  StoredMessage,
  InboxMessage,
  MessengerEntry,
  LargeGroup,
  DiffusionMode,
  DeliveredEvent,
  SendInput,
  SendResult,
  MessengerSyncOptions,
  MessengerSyncResult,
  ModifyRequest,
  RecallMark,
  EditMark,
  CanModify,
  LifecycleOptions,
  RecallInput,
  EditInput,
  DeleteForMeInput,
  ChangeResult,
  MessengerHistoryOptions,
  JournalOptions,
  RecoverOptions,
  RecoverResult,
} from './messenger-types.js';
export type {
  ConversationOptions,
  ConversationItem,
  ConversationKind,
  ConversationsOptions,
  ConversationPage,
  MarkReadInput,
  MarkReadResult,
  ReadReceiptsInput,
  ReadReceipts,
} from './conversation-types.js';
export type { SyncEvent, SyncEventBase, RecallEvent, EditEvent, DeleteEvent, ReadEvent, StoredSyncEvent } from './sync-events.js';
