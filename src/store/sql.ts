/**
 * A statement with its parameters kept apart from its text, in no dialect yet: each driver
 * renders its own placeholders (`?` or `$1`), and values never reach the SQL text.
 */
export interface SqlQuery {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

/** Text a driver inlines as is: its own constant fragments and migration scripts, never input. */
export class RawSql {
  constructor(readonly text: string) {}
}

/** Builds a statement: sql`SELECT * FROM t WHERE id = ${id}`. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlQuery {
  return { strings, values };
}

/** A statement as a driver sends it. */
export interface CompiledSql {
  text: string;
  params: unknown[];
}

/** Renders `query`, asking `placeholder` for the text of the n-th parameter (from 0). */
export function compileSql(query: SqlQuery, placeholder: (index: number) => string): CompiledSql {
  let text = query.strings[0] ?? '';
  const params: unknown[] = [];
  query.values.forEach((value, i) => {
    if (value instanceof RawSql) {
      text += value.text;
    } else {
      text += placeholder(params.length);
      params.push(value);
    }
    text += query.strings[i + 1] ?? '';
  });
  return { text, params };
}
