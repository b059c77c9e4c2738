// The flood generator of test/cluster/flood.test.ts, in a worker thread of its own: with 200
// requests in flight its callbacks would otherwise hold up the test's main thread, where the
// SMTP catcher and the people's requests run, and the people's timings would measure the
// test rather than the service. Plain JavaScript: worker threads do not load TypeScript.
//
// workerData: { url, strategy, header, claims, inFlight, min, max, maxMs, control }
// control: Int32Array over a SharedArrayBuffer; [0] = 1 once the people are done (set by the
// test), [1] = 1 once the flood is over (set here). Posts { sent, ms, histogram, socketErrors }.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, strategy, header, claims, inFlight, min, max, maxMs } = workerData;
const control = new Int32Array(workerData.control);
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });

/** A distinct client address for the n-th forged request: 10.x.y.z. */
const client = (n) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** A token that is shaped right and forged: a random opaque token, or a JWT with a random signature. */
const forge = () =>
  strategy === 'jwt'
    ? `${header}.${claims}.${randomBytes(64).toString('base64url')}`
    : randomBytes(32).toString('base64url');

/** POST /v1/verify; resolves with "STATUS CODE" (e.g. "400 invalid_token"). */
function verify(n) {
  const payload = Buffer.from(JSON.stringify({ token: forge() }));
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/v1/verify`,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          'x-forwarded-for': client(n),
        },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          let code = '';
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            code = body?.error?.code ?? body?.status ?? '';
          } catch {
            code = 'not-json';
          }
          resolve(`${response.statusCode} ${code}`.trim());
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

const histogram = new Map();
const socketErrors = [];
let sent = 0;
const startedAt = Date.now();
const more = () =>
  sent < max && Date.now() - startedAt < maxMs && (sent < min || Atomics.load(control, 0) === 0);

async function lane() {
  while (more()) {
    const n = sent++;
    try {
      const key = await verify(n);
      histogram.set(key, (histogram.get(key) ?? 0) + 1);
    } catch (error) {
      socketErrors.push(String(error));
    }
  }
}

await Promise.all(Array.from({ length: inFlight }, lane));
Atomics.store(control, 1, 1);
const ms = Date.now() - startedAt;
agent.destroy();
parentPort.postMessage({ sent, ms, histogram: [...histogram], socketErrors });
