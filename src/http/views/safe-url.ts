/**
 * Links that come from data (a caller's return URL, a caught mail) go through here before
 * they become an `href`: escaping stops markup injection but not `javascript:` URLs.
 */

/**
 * The URL if it is safe to link to (absolute `http:`/`https:`, or a path on this site such
 * as `/dev/inbox`), else `undefined`.
 */
export function safeHref(url: string): string | undefined {
  const trimmed = url.trim();
  // A single leading slash is a local path; `//host` and `/\host` would leave the site.
  if (/^\/(?![/\\])/.test(trimmed)) return trimmed;
  try {
    const { protocol } = new URL(trimmed);
    return protocol === 'http:' || protocol === 'https:' ? trimmed : undefined;
  } catch {
    return undefined;
  }
}
