import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';

/**
 * Reads a secret kept in the data dir, or makes one (32 random bytes, base64url) on first
 * start. Written to a temporary file and hard-linked into place, so a crash never leaves
 * half a secret and two processes starting together agree on one (the link fails for the
 * second, which then reads the first's). Mode 0600: whoever reads it can call the API or
 * open queued mails.
 */
export async function dataDirSecret(
  dataDir: string,
  file: string,
  variable: string,
): Promise<{ value: string; created: boolean }> {
  const path = join(dataDir, file);
  try {
    const value = (await readFile(path, 'utf8')).trim();
    if (value.length < 16) throw new ConfigError(variable, `${path} is empty or too short`);
    return { value, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(variable, `cannot read ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const value = randomBytes(32).toString('base64url');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${value}\n`, { mode: 0o600 });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { value: (await readFile(path, 'utf8')).trim(), created: false };
  } finally {
    await unlink(temporary);
  }
  return { value, created: true };
}
