// The IM helpers (StoreTimeline, SyncTimeline, fanOut, Messenger) are exported from here.
export {};
