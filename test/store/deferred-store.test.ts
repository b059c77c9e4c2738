import { describe, expect, it } from 'vitest';
import { ConfigError, UnavailableError } from '../../src/core/errors.js';
import { DeferredStore } from '../../src/store/deferred-store.js';
import { storeKinds } from '../support/stores.js';

describe('DeferredStore', () => {
  it('answers unavailable until the database opens, then is the real store', async () => {
    const opened = await storeKinds[0]!.open();
    let attempts = 0;
    let retried = 0;
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const deferred = new DeferredStore({
      open: async () => {
        attempts++;
        if (attempts < 3) throw new UnavailableError('connection refused');
        return opened.store;
      },
      firstRetryMs: 5,
      onRetry: () => retried++,
      onOpen: ready,
    });
    await deferred.start();
    expect(deferred.isOpen).toBe(false);
    await expect(deferred.ping()).rejects.toBeInstanceOf(UnavailableError);
    await expect(deferred.readSuspension()).rejects.toBeInstanceOf(UnavailableError);
    await isReady;
    expect(attempts).toBe(3);
    expect(retried).toBe(2);
    await expect(deferred.ping()).resolves.toBeUndefined();
    expect(await deferred.outboxDepth()).toEqual({ pending: 0, dead: 0 });
    await deferred.close();
    await opened.cleanup();
  });

  it('stops the start for a bad setting instead of retrying it', async () => {
    const deferred = new DeferredStore({
      open: async () => {
        throw new ConfigError('MAILPROOF_DATABASE_URL', 'bad');
      },
    });
    await expect(deferred.start()).rejects.toBeInstanceOf(ConfigError);
  });

  it('stops retrying once closed', async () => {
    let attempts = 0;
    const deferred = new DeferredStore({
      open: async () => {
        attempts++;
        throw new UnavailableError('down');
      },
      firstRetryMs: 5,
    });
    await deferred.start();
    await deferred.close();
    const seen = attempts;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(attempts).toBe(seen);
  });
});
