import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { issue } from './store-conformance.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/consume-race.ts', import.meta.url));
const PROCESSES = 4;

/** Starts the children, has them all begin at one instant, and collects their outcomes. */
async function race(args: string[]): Promise<string[][]> {
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args]),
  );
  const outputs = children.map(lines);
  await Promise.all(outputs.map((output) => output.next()));
  const startAt = Date.now() + 200;
  for (const child of children) child.stdin.end(`${startAt}\n`);
  return Promise.all(
    children.map(async (child, i) => {
      const [code] = await once(child, 'exit');
      expect(code, `child ${i} exit code`).toBe(0);
      const result = await outputs[i]!.next();
      return JSON.parse(String(result.value)) as string[];
    }),
  );
}

async function* lines(child: ChildProcessWithoutNullStreams): AsyncGenerator<string> {
  child.stderr.pipe(process.stderr);
  yield* createInterface({ input: child.stdout });
}

describe('SQLite store shared by several processes', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'mailproof-multiprocess-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('migrates a new file once when processes open it together', async () => {
    const path = join(directory, 'store.db');
    const results = await race(['open', path]);
    expect(results).toEqual(Array.from({ length: PROCESSES }, () => []));

    const store = await openSqliteStore({ path, migrate: false });
    expect(await store.migrate()).toEqual({ applied: [], version: 2 });
    await store.close();
  });

  it('lets exactly one process verify each token', async () => {
    const path = join(directory, 'store.db');
    const store = await openSqliteStore({ path });
    const inputs = Array.from({ length: 300 }, (_, i) => issue({ email: `u${i}@example.com` }));
    for (const input of inputs) await store.createVerification(input);
    await store.close();

    const keys = inputs.map((input) => input.token.key);
    const now = inputs[0]!.verification.createdAt + 1;
    const results = await race(['consume', path, String(now), ...keys]);
    keys.forEach((key, k) => {
      const kinds = results.map((kindsOfChild) => kindsOfChild[k]);
      expect(
        kinds.filter((kind) => kind === 'verified'),
        key,
      ).toHaveLength(1);
      expect(
        kinds.filter((kind) => kind === 'already_verified'),
        key,
      ).toHaveLength(PROCESSES - 1);
    });
  });
});
