import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MailproofError } from '../../src/core/errors.js';
import { SealedBox } from '../../src/core/sealed-box.js';

describe('SealedBox', () => {
  const box = new SealedBox(randomBytes(32));

  it('round-trips a value without leaving it readable', () => {
    const sealed = box.seal({ token: 'secret-token-value' });
    expect(sealed).not.toContain('secret-token-value');
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url').toString('latin1')).not.toContain(
      'secret',
    );
    expect(box.open(sealed)).toEqual({ token: 'secret-token-value' });
  });

  it('uses a fresh nonce every time', () => {
    expect(box.seal('x')).not.toBe(box.seal('x'));
  });

  it('refuses another key, tampering, truncation and junk with a MailproofError', () => {
    const sealed = box.seal({ token: 't' });
    const other = new SealedBox(randomBytes(32));
    const [v, iv, body] = sealed.split('.') as [string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0]! ^= 1;
    for (const bad of [
      `${v}.${iv}.${flipped.toString('base64url')}`,
      `${v}.${iv}.${body.slice(0, 10)}`,
      `v2.${iv}.${body}`,
      'junk',
      '',
    ]) {
      expect(() => box.open(bad)).toThrow(MailproofError);
    }
    expect(() => other.open(sealed)).toThrow(MailproofError);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SealedBox(randomBytes(16))).toThrow(MailproofError);
  });
});
