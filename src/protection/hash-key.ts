import { sha256Base64url } from '../core/sha256.js';

/**
 * A short, fixed-length stand-in for a client address or an email: counters keyed by it
 * (in memory or in Redis) do not hold personal data in clear. 132 bits: collisions are not a concern.
 */
export function hashKey(key: string): string {
  return sha256Base64url(key).slice(0, 22);
}
