import { domainToASCII } from 'node:url';
import { InvalidInputError } from './errors.js';

/** A validated email address. */
export interface EmailAddress {
  /** The trimmed input exactly as given: mail goes here. */
  address: string;
  /**
   * Canonical form for matching and uniqueness: the local part as given (it is
   * case-sensitive by RFC 5321) and the domain lower-cased, IDN as punycode.
   */
  key: string;
}

// RFC 5321 §4.5.3.1: a path holds at most 256 octets including the angle brackets.
const MAX_ADDRESS_OCTETS = 254;
const MAX_LOCAL_OCTETS = 64;
const MAX_LABEL_LENGTH = 63;

// Control and format characters (CR/LF, NUL, tab, DEL, bidi overrides, lone surrogates...)
// and the Unicode line/paragraph separators: they enable header injection or spoofing.
const CONTROL = /[\p{C}\u2028\u2029]/u;
const SPACE = /[\s\p{Z}]/u;
// Dot-atom of RFC 5322 atext, widened by RFC 6531 to non-ASCII letters, marks and digits.
// An atom never contains a dot, so the pattern cannot backtrack badly.
const LOCAL_PART =
  /^[\w!#$%&'*+/=?^`{|}~\p{L}\p{M}\p{N}-]+(?:\.[\w!#$%&'*+/=?^`{|}~\p{L}\p{M}\p{N}-]+)*$/u;
// Checked before domainToASCII, which would otherwise percent-decode, drop zero-width
// characters or read the domain as an IPv4 number instead of refusing it.
const RAW_DOMAIN = /^[\p{L}\p{M}\p{N}.-]+$/u;
// Checked after punycode: IDNA mapping can yield characters no hostname may hold.
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const NUMERIC = /^[0-9]+$/;

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('invalid_email', message);
}

function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Validates that `input` is exactly one mailbox and returns it with its canonical key.
 * Throws `InvalidInputError` with code `invalid_email` otherwise; messages never echo the
 * input, which may hold control characters.
 */
export function parseEmail(input: unknown): EmailAddress {
  if (typeof input !== 'string') throw invalid('email must be a string');
  const address = input.trim();
  if (address === '') throw invalid('email is empty');
  if (CONTROL.test(address)) throw invalid('email must not contain control characters');
  // Before the space check: `Bob <bob@x.com>` and `a@x.com, b@y.com` deserve the precise message.
  if (address.includes('<') || address.includes('>')) {
    throw invalid('email must be a bare address, without a display name');
  }
  if (address.includes(',') || address.includes(';')) {
    throw invalid('email must be a single address');
  }
  if (SPACE.test(address)) throw invalid('email must not contain spaces');
  if (octets(address) > MAX_ADDRESS_OCTETS) throw invalid('email is longer than 254 octets');
  // Quoted local parts are refused outright: they are almost never real, and accepting
  // them would mean parsing escapes and '@' inside quotes for no practical gain.
  if (address.includes('"')) throw invalid('quoted local parts are not accepted');

  const at = address.indexOf('@');
  if (at === -1) throw invalid('email must contain @');
  if (address.indexOf('@', at + 1) !== -1) throw invalid('email must contain exactly one @');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);

  if (local === '') throw invalid('email is missing the part before @');
  if (octets(local) > MAX_LOCAL_OCTETS) {
    throw invalid('the part before @ is longer than 64 octets');
  }
  if (!LOCAL_PART.test(local)) throw invalid('the part before @ is not valid');

  if (domain === '') throw invalid('email is missing the domain');
  if (domain.startsWith('[')) throw invalid('domain literals are not accepted');
  const canonical = RAW_DOMAIN.test(domain) ? domainToASCII(domain) : '';
  if (canonical === '') throw invalid('the domain is not valid');
  const labels = canonical.split('.');
  if (labels.length < 2) throw invalid('the domain must contain a dot');
  for (const label of labels) {
    if (label.length > MAX_LABEL_LENGTH) {
      throw invalid('a domain label is longer than 63 characters');
    }
    if (!LABEL.test(label)) throw invalid('the domain is not valid');
  }
  if (NUMERIC.test(labels[labels.length - 1]!)) {
    throw invalid('the top-level domain must not be numeric');
  }

  const key = `${local}@${canonical}`;
  // Punycode can make the domain longer than the form given.
  if (octets(key) > MAX_ADDRESS_OCTETS) throw invalid('email is longer than 254 octets');
  return { address, key };
}
