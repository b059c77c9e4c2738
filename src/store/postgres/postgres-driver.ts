import pg from 'pg';
import { UnavailableError } from '../../core/errors.js';
import { compileSql, RawSql, type SqlQuery } from '../sql.js';
import type { SqlDriver, SqlTransaction } from '../sql-driver.js';
import { toPostgresStoreError } from './postgres-errors.js';

/** How to reach PostgreSQL, and how long to wait for it. */
export interface PostgresDriverOptions {
  /** `postgres://` or `postgresql://` connection URL. */
  url: string;
  /** Longest wait for a connection, new or from the pool. */
  connectTimeoutMs: number;
  /** Longest a statement may run (lock waits included) before the server cancels it. */
  statementTimeoutMs: number;
  /** Most connections open at once. */
  poolSize: number;
  /** Send named prepared statements (see `send`). */
  preparedStatements: boolean;
  /** Told when an idle pooled connection dies (the pool replaces it). */
  onIdleError?: (error: Error) => void;
}

// The server cancels at statement_timeout; past this margin the client gives up on a server
// that stopped answering altogether.
const QUERY_TIMEOUT_MARGIN_MS = 1000;

// Instants and counts are BIGINT: as numbers, not pg's default strings. Every value the store
// keeps (ms since 1970, row counts) is far below 2^53.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, Number);

const ignore = () => {};

/** `SqlDriver` over a `pg` pool. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres';
  readonly consumeStyle = 'one-statement';
  readonly skipLocked = new RawSql(' FOR UPDATE SKIP LOCKED');
  readonly #pool: pg.Pool;
  readonly #prepared: boolean;

  constructor(options: PostgresDriverOptions) {
    this.#prepared = options.preparedStatements;
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      query_timeout: options.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
      keepAlive: true,
      application_name: 'mailproof',
      types,
    });
    // Without a listener, an idle connection dropped by the server crashes the process.
    this.#pool.on('error', options.onIdleError ?? ignore);
  }

  async all<Row>(query: SqlQuery): Promise<Row[]> {
    return (await send(this.#pool, query, this.#prepared)).rows as Row[];
  }

  async run(query: SqlQuery): Promise<number> {
    return (await send(this.#pool, query, this.#prepared)).rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
    const client = await mapped(() => this.#pool.connect());
    // Checked out, the client has no pool listener: a socket error between two statements
    // would otherwise be unhandled.
    client.on('error', ignore);
    let discard: Error | undefined;
    try {
      await mapped(() => client.query('BEGIN'));
      const result = await fn(transactionOn(client, this.#prepared));
      await mapped(() => client.query('COMMIT'));
      return result;
    } catch (error) {
      // A connection in trouble may be dead, or still running the statement the client gave
      // up on: drop it rather than queue a ROLLBACK behind it (the server rolls back).
      discard =
        error instanceof UnavailableError
          ? error
          : await client.query('ROLLBACK').then(
              () => undefined,
              (rollbackError: Error) => rollbackError,
            );
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(discard);
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

function transactionOn(client: pg.PoolClient, prepared: boolean): SqlTransaction {
  return {
    all: async <Row>(query: SqlQuery) => (await send(client, query, prepared)).rows as Row[],
    run: async (query) => (await send(client, query, prepared)).rowCount ?? 0,
    // Held until COMMIT or ROLLBACK; a 64-bit hash of the key names the lock.
    lock: async (key) => {
      await mapped(() =>
        client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]),
      );
    },
    // Without parameters pg uses the simple protocol, which accepts several statements.
    script: async (text) => {
      await mapped(() => client.query(text));
    },
  };
}

/**
 * Every statement is sent as a named prepared statement: PostgreSQL parses and plans it once
 * per connection instead of on every call. Measured with `npm run bench:profile -- opaque
 * postgres forged`: 2,449 → 5,124 verifies/s, and 240 → 169 µs of app CPU per verify.
 * Names are per text and per generation; see `planChanged`.
 */
const statements = { generation: 1, names: new Map<string, string>() };

function statementName(text: string): string {
  let name = statements.names.get(text);
  if (!name) {
    name = `mailproof_${statements.generation}_${statements.names.size + 1}`;
    statements.names.set(text, name);
  }
  return name;
}

/**
 * A migration by another instance changed the columns under a statement this process
 * prepared (`SELECT *`, `RETURNING *`): PostgreSQL refuses to run it again. New names make
 * every connection prepare afresh.
 */
function planChanged(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan');
}

async function send(
  target: pg.Pool | pg.PoolClient,
  query: SqlQuery,
  prepared: boolean,
): Promise<pg.QueryResult> {
  const { text, params } = compileSql(query, (index) => `$${index + 1}`);
  if (!prepared) return mapped(() => target.query(text, params));
  const run = () => target.query({ name: statementName(text), text, values: params });
  try {
    return await run();
  } catch (error) {
    if (!planChanged(error)) throw toPostgresStoreError(error);
    statements.generation++;
    statements.names.clear();
    // Outside a transaction the statement can simply be sent again; inside one, the
    // transaction is aborted and fails, and the next one prepares afresh.
    if (target instanceof pg.Pool) return mapped(run);
    throw toPostgresStoreError(error);
  }
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toPostgresStoreError(error);
  }
}
