import type { Clock } from '../../src/core/ports.js';

/** A clock that moves only when told: tests freeze time instead of sleeping. */
export class FrozenClock implements Clock {
  #now: number;

  constructor(start = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }

  set(ms: number): void {
    this.#now = ms;
  }
}
