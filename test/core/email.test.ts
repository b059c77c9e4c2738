import { describe, expect, it } from 'vitest';
import { parseEmail } from '../../src/core/email.js';
import { InvalidInputError } from '../../src/core/errors.js';

const local64 = 'l'.repeat(64);
// 63 + 1 + 63 + 1 + 57 + 4 = 189 octets: with a 64-octet local part and '@', 254 in all.
const domain189 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(57)}.com`;

function thrown(input: unknown): unknown {
  try {
    parseEmail(input);
  } catch (error) {
    return error;
  }
  throw new Error('parseEmail did not throw');
}

describe('parseEmail', () => {
  it.each([
    ['plain', 'user@example.com', 'user@example.com', 'user@example.com'],
    ['plus tag', 'user+tag@example.com', 'user+tag@example.com', 'user+tag@example.com'],
    ['subdomain', 'a.b@mail.example.co.uk', 'a.b@mail.example.co.uk', 'a.b@mail.example.co.uk'],
    ['upper-case domain', 'User@Example.COM', 'User@Example.COM', 'User@example.com'],
    ['IDN domain', 'user@bücher.de', 'user@bücher.de', 'user@xn--bcher-kva.de'],
    ['UTF-8 local part', 'josé@example.com', 'josé@example.com', 'josé@example.com'],
    ['atext symbols', "a!#$%&'*/=?^_`{|}~-@example.com", null, null],
    ['surrounding whitespace', '  \tuser@example.com \n', 'user@example.com', 'user@example.com'],
    ['64-octet local part', `${local64}@example.com`, null, null],
    ['254-octet address', `${local64}@${domain189}`, null, null],
  ])('accepts %s', (_name, input, address, key) => {
    const parsed = parseEmail(input);
    expect(parsed.address).toBe(address ?? input);
    expect(parsed.key).toBe(key ?? input);
  });

  it('counts the local part in UTF-8 octets', () => {
    // 32 two-octet characters: 64 octets accepted, one more refused.
    expect(parseEmail(`${'é'.repeat(32)}@example.com`).key).toBe(`${'é'.repeat(32)}@example.com`);
    expect(thrown(`${'é'.repeat(32)}a@example.com`)).toBeInstanceOf(InvalidInputError);
  });

  it.each([
    ['65-octet local part', `${'l'.repeat(65)}@example.com`],
    ['255-octet address', `${local64}@${domain189.replace('.com', 'c.com')}`],
    ['64-character label', `user@${'a'.repeat(64)}.com`],
    ['display name', 'Bob <bob@example.com>'],
    ['angle brackets', '<bob@example.com>'],
    ['comma list', 'a@example.com, b@example.com'],
    ['semicolon list', 'a@example.com;b@example.com'],
    ['CR', 'user\r@example.com'],
    ['LF', 'user@example.com\nBcc:evil@example.org'],
    ['NUL', 'user\0@example.com'],
    ['tab inside', 'user\t@example.com'],
    ['DEL', 'user\x7f@example.com'],
    ['U+2028', 'user\u2028@example.com'],
    ['U+2029', 'user@exa\u2029mple.com'],
    ['bidi override', 'user\u202e@example.com'],
    ['zero-width space in domain', 'user@exa\u200bmple.com'],
    ['space inside', 'us er@example.com'],
    ['two @', 'a@b@example.com'],
    ['no @', 'user.example.com'],
    ['empty', ''],
    ['only whitespace', ' \t\n '],
    ['empty local part', '@example.com'],
    ['empty domain', 'user@'],
    ['leading dot', '.user@example.com'],
    ['trailing dot', 'user.@example.com'],
    ['double dot', 'us..er@example.com'],
    ['no dot in domain', 'user@localhost'],
    ['trailing dot in domain', 'user@example.com.'],
    ['double dot in domain', 'user@example..com'],
    ['domain literal', 'user@[1.2.3.4]'],
    ['IPv4 domain', 'user@1.2.3.4'],
    ['hexadecimal IPv4 domain', 'user@0x1.0x2.0x3.0x4'],
    ['quoted local part', '"john doe"@example.com'],
    ['quoted local part without space', '"john"@example.com'],
    ['numeric TLD', 'user@example.123'],
    ['label starting with hyphen', 'user@-example.com'],
    ['label ending with hyphen', 'user@example-.com'],
    ['underscore in domain', 'user@ex_ample.com'],
    ['percent-encoded domain', 'user@ex%41mple.com'],
    ['invalid punycode', 'user@xn--zz.com'],
    ['IDNA mapping to symbols', 'user@\u2474.com'],
    ['undefined', undefined],
    ['null', null],
    ['number', 42],
    ['object', { email: 'user@example.com' }],
    ['array', ['user@example.com']],
  ])('refuses %s', (_name, input) => {
    const error = thrown(input);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('invalid_email');
  });

  it('never echoes the input in its message', () => {
    for (const input of ['evil\r\n@example.com', 'Bob <bob@example.com>', 'a@b@example.com']) {
      const { message } = thrown(input) as InvalidInputError;
      expect(message).not.toContain(input);
      expect(message).not.toMatch(/[\p{C}]/u);
    }
  });
});
