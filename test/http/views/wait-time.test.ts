import { describe, expect, it } from 'vitest';
import { waitInWords } from '../../../src/http/views/wait-time.js';

describe('waitInWords', () => {
  it.each([
    [0, 'a moment'],
    [0.4, 'a moment'],
    [3, 'a few seconds'],
    [12, 'about 15 seconds'],
    [30, 'about 30 seconds'],
    [59, 'about 1 minute'],
    [60, 'about 1 minute'],
    [90, 'about 2 minutes'],
    [120, 'about 2 minutes'],
    [600, 'about 10 minutes'],
    [3599, 'about 1 hour'],
    [7200, 'about 2 hours'],
    [86_400, 'about 1 day'],
    [3 * 86_400, 'about 3 days'],
  ])('%s s → %s', (seconds, words) => {
    expect(waitInWords(seconds)).toBe(words);
  });

  it.each([undefined, Number.NaN, Number.POSITIVE_INFINITY])('%s → a few minutes', (seconds) => {
    expect(waitInWords(seconds)).toBe('a few minutes');
  });

  it('treats a negative wait as none', () => {
    expect(waitInWords(-5)).toBe('a moment');
  });
});
