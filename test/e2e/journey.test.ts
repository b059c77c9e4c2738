/**
 * The whole journey through a real port and real SMTP: `mailproof serve` runs as a child
 * process (the CLI, as `npm start` runs it) and mails a `DevCatcher` this test starts, over
 * SMTP. Then the shutdown: SIGTERM with requests in flight, and no mail lost across a restart.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevCatcher } from '../../src/mail/dev-catcher.js';
import {
  freePort,
  type LogLine,
  type ServerProcess,
  startServer,
} from '../support/server-process.js';
import { storeKinds } from '../support/stores.js';

const strategies = ['opaque', 'jwt'] as const;

/** The text of a page's single `<h1>`. */
function heading(page: string): string {
  const match = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(page);
  return match ? match[1]!.replace(/<[^>]+>/g, '').trim() : '';
}

/** The value of the hidden `token` field of a page's form. */
function hiddenToken(page: string): string | undefined {
  return /<input type="hidden" name="token" value="([^"]*)">/.exec(page)?.[1];
}

async function api(server: ServerProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...server.auth,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/**
 * A JSON POST whose body is only half sent until `finish()`: a request the server has
 * received and is working on, for as long as the test wants. Goes through a keep-alive
 * agent, as a backend calling the API would.
 */
function slowPost(server: ServerProcess, agent: http.Agent, path: string, body: unknown) {
  const payload = Buffer.from(JSON.stringify(body));
  let finish = () => {};
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const request = http.request(
        `${server.url}${path}`,
        {
          method: 'POST',
          agent,
          headers: {
            ...server.auth,
            'content-type': 'application/json',
            'content-length': payload.length,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body: text }),
          );
        },
      );
      request.on('error', reject);
      request.write(payload.subarray(0, 4));
      finish = () => request.end(payload.subarray(4));
    },
  );
  // Awaited later; until then a failure must not count as an unhandled rejection.
  response.catch(() => {});
  return { response, finish: () => finish() };
}

const isIncoming = (path: string) => (line: LogLine) =>
  line.msg === 'incoming request' && (line.req as { url?: string } | undefined)?.url === path;

describe.each(storeKinds)('mailproof serve on $name', (kind) => {
  let catcher: DevCatcher;

  beforeAll(async () => {
    catcher = new DevCatcher();
    await catcher.start();
  });

  afterAll(async () => {
    await catcher.stop();
  });

  describe.each(strategies)('with the %s strategy', (strategy) => {
    let server: ServerProcess;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const database = await kind.prepare();
      drop = database.drop;
      server = await startServer({
        databaseUrl: database.databaseUrl,
        strategy,
        smtpUrl: catcher.smtpUrl,
      });
    });

    afterAll(async () => {
      const code = await server?.stop();
      await drop?.();
      expect(code).toBe(0);
    });

    it('issues, mails over SMTP, confirms through the pages and reports verified', async () => {
      const email = `journey-${kind.name}-${strategy}@example.com`;
      const issued = await api(server, 'POST', '/v1/verifications', {
        email,
        subject: `user-${strategy}`,
      });
      expect(issued.status).toBe(202);
      expect(issued.body).toMatchObject({ email, strategy });
      const id = issued.body.id as string;

      // The mail reached the SMTP listener, with the link in both parts.
      const mail = await catcher.waitFor((m) => m.to.includes(email), 10_000);
      expect(mail.links).toHaveLength(1);
      const link = mail.links[0]!;
      expect(link.startsWith(`${server.url}/verify?token=`)).toBe(true);
      const token = new URL(link).searchParams.get('token')!;
      expect(token).toMatch(/^[A-Za-z0-9._~-]+$/);
      expect(mail.text).toContain(link);
      expect(mail.html).toContain(link);

      // Opening the link consumes nothing: a confirm page with the token in its form.
      const confirm = await fetch(link);
      expect(confirm.status).toBe(200);
      expect(confirm.headers.get('content-type')).toMatch(/^text\/html/);
      expect(confirm.headers.get('cache-control')).toBe('no-store');
      expect(confirm.headers.get('referrer-policy')).toBe('no-referrer');
      expect(confirm.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const confirmPage = await confirm.text();
      expect(heading(confirmPage)).toBe('Confirm your email address');
      expect(hiddenToken(confirmPage)).toBe(token);
      expect((await api(server, 'GET', `/v1/verifications/${id}`)).body.status).toBe('pending');

      // Pressing the button posts the form.
      const post = () =>
        fetch(`${server.url}/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token }).toString(),
        });
      const verified = await post();
      expect(verified.status).toBe(200);
      const verifiedPage = await verified.text();
      expect(heading(verifiedPage)).toBe('Your email address is confirmed');
      expect(verifiedPage).toContain(email);

      const again = await post();
      expect(again.status).toBe(200);
      expect(heading(await again.text())).toBe('This address is already confirmed');

      const status = await api(server, 'GET', `/v1/verifications/${id}`);
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({
        id,
        email,
        subject: `user-${strategy}`,
        purpose: 'signup',
        status: 'verified',
      });
      expect(typeof status.body.verifiedAt).toBe('string');
    });
  });

  it('finishes requests in flight on SIGTERM, exits 0, and mails what they committed after a restart', async () => {
    const database = await kind.prepare();
    const dataDir = await mkdtemp(join(tmpdir(), 'mailproof-e2e-restart-'));
    const agent = new http.Agent({ keepAlive: true });
    const servers: ServerProcess[] = [];
    try {
      // Nothing listens at this SMTP address: whatever is committed stays in the outbox.
      const first = await startServer({
        databaseUrl: database.databaseUrl,
        dataDir,
        smtpUrl: `smtp://127.0.0.1:${await freePort()}`,
      });
      servers.push(first);
      const emails = [1, 2, 3].map((n) => `in-flight-${n}-${kind.name}@example.com`);
      const requests = emails.map((email) =>
        slowPost(first, agent, '/v1/verifications', { email }),
      );
      // The server has all three, and is waiting for the rest of their bodies.
      await expect
        .poll(() => first.logs().filter(isIncoming('/v1/verifications')).length, {
          timeout: 5000,
        })
        .toBe(3);

      const stoppedAt = Date.now();
      first.process.kill('SIGTERM');
      await first.waitForLog((line) => line.msg === 'stopping: finishing requests in flight');
      // An impatient second signal does not cut the drain short.
      first.process.kill('SIGTERM');
      await first.waitForLog((line) => String(line.msg).startsWith('already stopping'));
      for (const request of requests) request.finish();
      const responses = await Promise.all(requests.map((request) => request.response));
      for (const response of responses) {
        expect(response.status, response.body).toBe(202);
        // The client is told not to reuse the connection, so it cannot hold up the exit.
        expect(response.headers.connection).toBe('close');
      }
      const ids = responses.map((response) => (JSON.parse(response.body) as { id: string }).id);
      expect(await first.exited()).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
      expect(first.logs().some((line) => line.msg === 'stopped')).toBe(true);
      for (const email of emails) {
        expect(catcher.list().some((mail) => mail.to.includes(email))).toBe(false);
      }

      // Same data dir and database, a mail server that answers: every committed mail goes.
      const second = await startServer({
        databaseUrl: database.databaseUrl,
        dataDir,
        smtpUrl: catcher.smtpUrl,
      });
      servers.push(second);
      const mails = await Promise.all(
        emails.map((email) => catcher.waitFor((mail) => mail.to.includes(email), 10_000)),
      );
      // Each went once, and its link (sealed in the outbox before the stop) still works.
      for (const email of emails) {
        expect(catcher.list().filter((mail) => mail.to.includes(email))).toHaveLength(1);
      }
      const token = new URL(mails[0]!.links[0]!).searchParams.get('token');
      const verified = await api(second, 'POST', '/v1/verify', { token });
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ status: 'verified', id: ids[0], email: emails[0] });
      expect(await second.stop()).toBe(0);
    } finally {
      // After a failure, nothing is left running (a no-op for servers already stopped).
      await Promise.all(servers.map((server) => server.stop('SIGKILL')));
      agent.destroy();
      await rm(dataDir, { recursive: true, force: true });
      await database.drop();
    }
  });
});
