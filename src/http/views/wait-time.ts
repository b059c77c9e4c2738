/**
 * Wait times in words. People read "about 2 minutes" faster than "120 seconds", and a
 * rough figure is honest: the server only knows an estimate.
 */

/** `120` → "about 2 minutes"; unknown or non-finite → "a few minutes". */
export function waitInWords(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'a few minutes';
  if (seconds < 1) return 'a moment';
  if (seconds <= 5) return 'a few seconds';
  if (seconds < 55) return `about ${Math.ceil(seconds / 5) * 5} seconds`;
  if (seconds < 3570) return about(Math.max(1, Math.round(seconds / 60)), 'minute');
  if (seconds < 84_600) return about(Math.round(seconds / 3600), 'hour');
  return about(Math.round(seconds / 86_400), 'day');
}

function about(count: number, unit: string): string {
  return `about ${count} ${unit}${count === 1 ? '' : 's'}`;
}
