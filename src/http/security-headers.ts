import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/** The Content-Security-Policy of every answer: pages need their own stylesheet and forms only. */
const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * The security headers of every answer, as helmet computes them, captured once at start.
 * Helmet's own Fastify plugin rebuilds its middleware on every request (about as much CPU
 * as a whole hello-world request); the headers never change, so they are set from this
 * object instead. `cache-control: no-store` is the contract's, for pages and API alike;
 * routes that may be cached (stylesheet, icon, JWKS) set their own.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...captureHelmetHeaders(),
  'cache-control': 'no-store',
});

function captureHelmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader() {},
  };
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  })({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}
