import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { compileSql, RawSql, type SqlQuery } from '../sql.js';
import type { SqlDriver, SqlTransaction } from '../sql-driver.js';
import { toSqliteStoreError } from './sqlite-errors.js';

/** How to open an SQLite database. */
export interface SqliteDriverOptions {
  /** File path, created with its folder if missing; `:memory:` for a private database. */
  path: string;
  /** How long a statement waits for another process's write lock before failing. */
  busyTimeoutMs: number;
}

/**
 * `SqlDriver` over better-sqlite3. The connection is synchronous and has one transaction at
 * a time, so every call queues behind the one under way: a statement from elsewhere in the
 * process must not land inside someone else's transaction. Across processes SQLite's file
 * locks (with `busy_timeout`) serialise writers.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite';
  // One writer at a time per file: a claiming UPDATE holds the database until it ends.
  readonly consumeStyle = 'read-first';
  readonly #byCallSite = new WeakMap<readonly string[], Database.Statement>();
  readonly skipLocked = new RawSql('');
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #tx: SqlTransaction = {
    all: async (query) => this.#all(query),
    run: async (query) => this.#run(query),
    // BEGIN IMMEDIATE already holds the only write lock there is.
    lock: async () => {},
    script: async (text) => {
      mapped(() => this.#db.exec(text));
    },
  };

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Opens (creating if needed) the database file and sets it up. */
  static async open(options: SqliteDriverOptions): Promise<SqliteDriver> {
    const db = mapped(() => {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      return new Database(options.path, { timeout: options.busyTimeoutMs });
    });
    try {
      // WAL lets readers run beside the writer; NORMAL is durable across crashes of the
      // process (only a power cut may lose the last commits) at a fraction of FULL's fsyncs.
      await enableWal(db, options.busyTimeoutMs);
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    } catch (error) {
      db.close();
      throw toSqliteStoreError(error);
    }
    return new SqliteDriver(db);
  }

  all<Row>(query: SqlQuery): Promise<Row[]> {
    return this.#exclusive(() => this.#all<Row>(query));
  }

  run(query: SqlQuery): Promise<number> {
    return this.#exclusive(() => this.#run(query));
  }

  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      // IMMEDIATE takes the write lock up front: a deferred transaction that reads, then
      // writes, fails with SQLITE_BUSY when another process wrote in between.
      mapped(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.#tx);
        mapped(() => this.#db.exec('COMMIT'));
        return result;
      } catch (error) {
        // SQLite may have rolled back already (some errors end the transaction).
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.#exclusive(() => {
      this.#db.close();
    });
  }

  #exclusive<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => {});
    return result;
  }

  #all<Row>(query: SqlQuery): Row[] {
    return mapped(() => {
      const { statement, params } = this.#prepare(query);
      // Migrations send DDL through here too: it returns no rows.
      if (!statement.reader) {
        statement.run(...params);
        return [];
      }
      return statement.all(...params) as Row[];
    });
  }

  #run(query: SqlQuery): number {
    return mapped(() => {
      const { statement, params } = this.#prepare(query);
      return statement.run(...params).changes;
    });
  }

  #prepare(query: SqlQuery): { statement: Database.Statement; params: unknown[] } {
    // A call site's template strings are one object for the life of the process: with no raw
    // fragment in it, the compiled statement can be found without rebuilding its text.
    const cacheable = !query.values.some((value) => value instanceof RawSql);
    const cached = cacheable ? this.#byCallSite.get(query.strings) : undefined;
    if (cached) return { statement: cached, params: query.values as unknown[] };
    const { text, params } = compileSql(query, () => '?');
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    if (cacheable) this.#byCallSite.set(query.strings, statement);
    return { statement, params };
  }
}

// Turning a new file to WAL needs it alone, and SQLite then answers SQLITE_BUSY at once
// rather than wait out busy_timeout: several processes opening one new file must retry.
async function enableWal(db: Database.Database, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY';
      if (!busy || Date.now() >= deadline) throw error;
      await setTimeout(10 + Math.random() * 40);
    }
  }
}

function mapped<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw toSqliteStoreError(error);
  }
}
