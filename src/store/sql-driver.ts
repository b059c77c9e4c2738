import type { RawSql, SqlQuery } from './sql.js';

/**
 * Runs statements. Errors come out mapped: a database that is down, busy past its timeout
 * or too slow rejects with `UnavailableError`; other errors (constraint, syntax) pass as is.
 */
export interface SqlExecutor {
  /** The rows a statement returns: a SELECT, or a write with RETURNING. */
  all<Row>(query: SqlQuery): Promise<Row[]>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(query: SqlQuery): Promise<number>;
}

/** The statements of one transaction. */
export interface SqlTransaction extends SqlExecutor {
  /**
   * Holds `key` until the transaction ends, so that transactions deciding on the same key
   * (in any process) run one after the other instead of both acting on a stale view.
   */
  lock(key: string): Promise<void>;
  /** Runs a script of several statements without parameters (migrations). */
  script(text: string): Promise<void>;
}

/**
 * What `SqlStore` needs from a database. Everything that differs between SQLite and
 * PostgreSQL lives behind it: placeholders, row locking, number parsing, error mapping,
 * transactions.
 */
export interface SqlDriver extends SqlExecutor {
  /** Chooses the migrations folder and postgrator's driver. */
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Ends the SELECT that picks outbox rows to claim, so that concurrent claimers skip each
   * other's rows instead of waiting; empty where writers are serialised anyway.
   */
  readonly skipLocked: RawSql;
  /**
   * How `consumeToken` reaches its answer.
   * - `read-first`: look the token up, and try the single-use update only for a usable
   *   one. Where a read is much cheaper than a write attempt (SQLite: no write lock taken),
   *   replayed and unknown tokens, the bulk of an attack, then cost one read.
   * - `one-statement`: the update and the lookup together, in one data-modifying CTE.
   *   Where every statement is a network round trip (PostgreSQL), any token, good or bad,
   *   then costs one.
   */
  readonly consumeStyle: 'read-first' | 'one-statement';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it rejects.
   * Its statements must go through `tx`, never through the driver itself.
   */
  transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T>;
  /** Releases connections; waits for statements under way. */
  close(): Promise<void>;
}
