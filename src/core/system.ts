import { randomBytes } from 'node:crypto';
import type { Clock, Random } from './ports.js';

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The operating system's CSPRNG. */
export const cryptoRandom: Random = { bytes: (size) => randomBytes(size) };
