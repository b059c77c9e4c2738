const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/**
 * A duration in words for people: "15 minutes", "24 hours", "3 days". Rounds to the nearest
 * unit, because a mail delivered a few seconds after the token was minted should still say
 * "24 hours", not "23 hours". Minutes up to two hours and hours up to two days keep the
 * rounding error small ("90 minutes" rather than "2 hours").
 */
export function durationInWords(ms: number): string {
  if (ms < MINUTE_MS) return 'less than a minute';
  if (ms <= 2 * HOUR_MS) return plural(Math.round(ms / MINUTE_MS), 'minute');
  if (ms < 2 * DAY_MS) return plural(Math.round(ms / HOUR_MS), 'hour');
  return plural(Math.round(ms / DAY_MS), 'day');
}
