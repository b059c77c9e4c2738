import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/sha256.js';

describe('sha256Base64url', () => {
  it('is SHA-256, base64url without padding (FIPS 180-2 "abc" vector)', () => {
    expect(Buffer.from(sha256Base64url('abc'), 'base64url').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(sha256Base64url('abc')).not.toMatch(/[=+/]/);
  });

  it('hashes the UTF-8 bytes of the string, as createHash does', () => {
    for (const text of ['', 'é', '127.0.0.1', 'x'.repeat(1000)]) {
      expect(sha256Base64url(text)).toBe(createHash('sha256').update(text).digest('base64url'));
    }
  });
});
