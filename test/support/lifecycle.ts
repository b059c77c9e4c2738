import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { VerificationMailPayload } from '../../src/core/mail-payload.js';
import type { Store } from '../../src/core/ports.js';
import { SealedBox } from '../../src/core/sealed-box.js';
import { JwtStrategy } from '../../src/core/strategies/jwt.js';
import { KeyRing } from '../../src/core/strategies/key-ring.js';
import { OpaqueStrategy } from '../../src/core/strategies/opaque.js';
import type { StrategyName, TokenStrategy } from '../../src/core/strategies/strategy.js';
import { cryptoRandom } from '../../src/core/system.js';
import { Verifications } from '../../src/core/verification.js';
import { FrozenClock } from './clock.js';

/** Every token strategy, by name. */
export const strategyNames: StrategyName[] = ['opaque', 'jwt'];

/** A strategy for tests: jwt gets a fresh Ed25519 key. */
export function makeStrategy(name: StrategyName): TokenStrategy {
  if (name === 'opaque') return new OpaqueStrategy({ random: cryptoRandom });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return new JwtStrategy({
    keyRing: new KeyRing([{ kid: 'test-key', privateKey, publicKey, createdAt: 0 }]),
    issuer: 'http://127.0.0.1:3000',
    audience: 'mailproof-verify',
    random: cryptoRandom,
  });
}

/** A lifecycle over `store` with a frozen clock, and a way to read the tokens it mailed. */
export function makeLifecycle(store: Store, strategy: TokenStrategy, ttlSeconds = 3600) {
  const clock = new FrozenClock();
  const sealer = new SealedBox(randomBytes(32));
  const verifications = new Verifications({
    store,
    strategy,
    sealer,
    clock,
    tokenTtlSeconds: ttlSeconds,
  });
  /** The tokens mailed for a verification, oldest first, read from the sealed outbox. */
  const mailedTokens = async (verificationId: string): Promise<string[]> => {
    const mails = await store.listMailsFor(verificationId);
    return mails.map((mail) => sealer.open<VerificationMailPayload>(mail.payload!).token);
  };
  const lastToken = async (verificationId: string): Promise<string> => {
    const tokens = await mailedTokens(verificationId);
    return tokens[tokens.length - 1]!;
  };
  return { verifications, clock, sealer, mailedTokens, lastToken };
}
