import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { BUILD_DIR, PROJECT_ROOT, SERVER_ENTRY } from './child.js';

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

async function transpile(source: string, target: string): Promise<void> {
  const { outputText } = ts.transpileModule(await readFile(source, 'utf8'), {
    fileName: source,
    compilerOptions: {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
    },
  });
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, outputText);
}

/**
 * Compiles src/ and bench/server.ts to plain JavaScript, as `npm run build` would run them,
 * and copies src/'s other files (the SQL migrations) beside them. The server under test then
 * runs without tsx: tsx's loader lives on a thread of its own, which adds some 25 MB to the
 * process's RSS and would be billed to the service. Transpiled only, not type-checked (the
 * project's typecheck does that), so it takes a second or two.
 */
export async function buildServer(): Promise<string> {
  await rm(BUILD_DIR, { recursive: true, force: true });
  const src = join(PROJECT_ROOT, 'src');
  for await (const path of files(src)) {
    const target = join(BUILD_DIR, 'src', relative(src, path));
    if (path.endsWith('.d.ts')) continue;
    if (path.endsWith('.ts')) await transpile(path, target.replace(/\.ts$/, '.js'));
    else {
      await mkdir(dirname(target), { recursive: true });
      await copyFile(path, target);
    }
  }
  await transpile(join(PROJECT_ROOT, 'bench', 'server.ts'), SERVER_ENTRY);
  return SERVER_ENTRY;
}
