import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinServer } from './cpu-pinning.js';
import type { ServerOp, ServerStats } from './server.js';

/** The project root: servers run from here, as `npm start` would. */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Where bench/build-server.ts compiles the server under test to (ignored by git). */
export const BUILD_DIR = join(PROJECT_ROOT, 'test-output', 'bench', 'build');
/** The compiled bench/server.ts. */
export const SERVER_ENTRY = join(BUILD_DIR, 'bench', 'server.js');
const START_TIMEOUT_MS = 30_000;

/** How to start a server child. */
export interface ServerChildOptions {
  kind: 'hello' | 'mailproof';
  /** The whole environment of the child (the caller merges in process.env if it wants it). */
  env?: NodeJS.ProcessEnv;
  /** Write a V8 CPU profile of the whole life of the child into this folder. */
  cpuProfDir?: string;
  /** More node flags, e.g. `--perf-basic-prof` for Linux perf, or heap sizes to try. */
  nodeFlags?: string[];
}

/** A bench server (bench/server.ts) in a child process, and the IPC calls it answers. */
export class ServerChild {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: { value?: unknown; error?: string }) => void>();
  #nextId = 1;
  #exited: Promise<number | null>;

  private constructor(child: ChildProcess, port: number, exited: Promise<number | null>) {
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
    this.#exited = exited;
    child.on('message', (message: { id?: number; value?: unknown; error?: string }) => {
      if (message.id === undefined) return;
      this.#pending.get(message.id)?.(message);
      this.#pending.delete(message.id);
    });
  }

  /**
   * Starts the compiled bench server (see `buildServer`) with plain node, as production runs
   * dist/, and resolves once it listens. `--expose-gc` lets the bench ask for a collection
   * for an after-load RSS diagnostic; nothing else calls gc.
   */
  static async start(options: ServerChildOptions): Promise<ServerChild> {
    if (!existsSync(SERVER_ENTRY)) throw new Error('the bench server is not built: buildServer()');
    const flags = ['--expose-gc'];
    if (options.cpuProfDir) flags.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
    flags.push(...(options.nodeFlags ?? []));
    const child = spawn(process.execPath, [...flags, SERVER_ENTRY, options.kind], {
      cwd: PROJECT_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`${options.kind} server did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      child.on('message', (message: { type?: string; port?: number }) => {
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        done(message.port ?? 0);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        fail(new Error(`${options.kind} server exited (code ${code}) before listening`));
      });
    });
    // Pinned once listening: the start-up (module loading, migrations) may use every core.
    pinServer(child.pid);
    return new ServerChild(child, port, exited);
  }

  /** The child's process id (for an external profiler). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends one op and waits for its answer. */
  call<T>(op: ServerOp): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((done, fail) => {
      this.#pending.set(id, (reply) =>
        reply.error === undefined ? done(reply.value as T) : fail(new Error(reply.error)),
      );
      this.#child.send({ id, op });
    });
  }

  /** CPU µs so far and RSS now / peak. */
  stats(): Promise<ServerStats> {
    return this.call<ServerStats>('stats');
  }

  /** Stops the server cleanly (a profile, if asked for, is written on this exit). */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 15_000);
    await this.call('stop').catch(() => {});
    await this.#exited;
    clearTimeout(timer);
  }
}
