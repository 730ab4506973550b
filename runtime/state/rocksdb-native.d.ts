// Types for the part of rocksdb-native (holepunch's librocksdb binding, plain CommonJS without types) that the rocksdb state backend uses.

declare module 'rocksdb-native' {
  interface DatabaseOptions {
    readonly readOnly?: boolean;
    readonly createIfMissing?: boolean;
    readonly maxBackgroundJobs?: number;
    readonly avoidFlushDuringShutdown?: boolean;
    /** A BloomFilterPolicy or RibbonFilterPolicy; null for no filter. */
    readonly filterPolicy?: object | null;
  }

  /** An empty buffer as a bound means no bound. */
  interface Range {
    readonly gte?: Buffer;
    readonly lt?: Buffer;
  }

  interface IteratorOptions {
    /** Entries fetched per call into the native side. */
    readonly capacity?: number;
  }

  interface Entry {
    readonly key: Buffer;
    readonly value: Buffer;
  }

  interface WriteBatch {
    tryPut(key: Buffer, value: Buffer): void;
    tryDelete(key: Buffer): void;
    flush(): Promise<void>;
    /** Every batch must be destroyed, or `close` never returns. */
    destroy(): void;
  }

  /** Gets gathered and sent to the database in one call by `flush`. */
  interface ReadBatch {
    /** Resolves, once the batch is flushed, the value, or null when the key is absent. */
    get(key: Buffer): Promise<Buffer | null>;
    flush(): Promise<void>;
    /** Every batch must be destroyed, or `close` never returns. */
    destroy(): void;
  }

  class RocksDB {
    constructor(path: string, options?: DatabaseOptions);
    ready(): Promise<void>;
    write(options?: { readonly capacity?: number }): WriteBatch;
    read(options?: { readonly capacity?: number }): ReadBatch;
    iterator(range: Range, options?: IteratorOptions): AsyncIterable<Entry>;
    /** Flushes the memtable into an SST file and waits for it. */
    flush(): Promise<void>;
    /** Pauses flushes and compactions (waiting for running ones) and the database's file system. */
    suspend(): Promise<void>;
    resume(): Promise<void>;
    close(): Promise<void>;
  }

  export = RocksDB;
}
