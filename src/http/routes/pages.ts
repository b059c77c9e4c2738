import type { FastifyInstance, FastifyReply } from 'fastify';
import { InvalidInputError, MailproofError } from '../../core/errors.js';
import type { CaughtMail } from '../../mail/dev-catcher.js';
import type { Service } from '../../service/service.js';
import { HttpFailure } from '../failure.js';
import type { Guards } from '../guards.js';
import { replyFailure } from '../reply-failure.js';
import { verifyAnswer } from '../verify-answer.js';
import {
  type DevMail,
  renderAlreadyVerifiedPage,
  renderCheckInboxPage,
  renderConfirmPage,
  renderDevInboxPage,
  renderSignupPage,
  renderVerifiedPage,
  type ShellOptions,
} from '../views/index.js';

const page = { page: true };
/** Pages that render without the database stay up while it is down. */
const pageWithoutDatabase = { page: true, database: false };
const formField = (name: string) => ({
  type: 'object',
  properties: { [name]: { type: 'string' } },
});

/**
 * The pages a person sees: the demo sign-up, the confirm page behind every mailed link,
 * the outcome of pressing its button, resend, and the development inbox. Nothing is
 * consumed by GET or HEAD: mail scanners open links.
 */
export async function pageRoutes(
  app: FastifyInstance,
  { service, guards, shell }: { service: Service; guards: Guards; shell: ShellOptions },
) {
  const devInbox = service.devCatcher !== null;
  const sendPage = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').send(body);

  // Sign-up and resend: anyone may post an address, so both carry the public issue limits.
  const emailForm = {
    config: page,
    onRequest: guards.client,
    preHandler: guards.publicIssue,
    schema: { body: formField('email') },
  };

  app.get('/', { config: pageWithoutDatabase, onRequest: guards.client }, async (_request, reply) =>
    sendPage(reply, 200, renderSignupPage({ devInbox }, shell)),
  );

  app.post<{ Body: { email?: string } | undefined }>(
    '/signup',
    emailForm,
    async (request, reply) => {
      const email = request.body?.email ?? '';
      try {
        const issued = await service.verifications.issue({ email });
        return sendPage(
          reply,
          200,
          renderCheckInboxPage({ email: issued.email, after: 'signup', devInbox }, shell),
        );
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        return sendPage(
          reply,
          400,
          renderSignupPage(
            { devInbox, email, error: 'Enter one email address, like name@example.com.' },
            shell,
          ),
        );
      }
    },
  );

  app.get<{ Querystring: { token?: string } }>(
    '/verify',
    {
      config: pageWithoutDatabase,
      onRequest: guards.client,
      schema: { querystring: formField('token') },
    },
    async (request, reply) => {
      const token = request.query.token;
      if (!token) throw new HttpFailure('invalid_token', 'the link has no token');
      return sendPage(reply, 200, renderConfirmPage({ token }, shell));
    },
  );

  app.post<{ Body: { token?: string } | undefined }>(
    '/verify',
    {
      config: page,
      onRequest: guards.client,
      preHandler: guards.verify,
      schema: { body: formField('token') },
    },
    async (request, reply) => {
      const token = request.body?.token;
      const outcome = await verifyKeepingToken(service, token);
      await guards.recordVerify(request, outcome);
      const answer = verifyAnswer(outcome);
      if (answer.failure) return replyFailure(request, reply, answer.failure, shell);
      const model = { email: answer.body.email };
      return sendPage(
        reply,
        200,
        answer.body.status === 'verified'
          ? renderVerifiedPage(model, shell)
          : renderAlreadyVerifiedPage(model, shell),
      );
    },
  );

  app.post<{ Body: { email?: string } | undefined }>(
    '/resend',
    emailForm,
    async (request, reply) => {
      const email = request.body?.email ?? '';
      try {
        await service.verifications.resend(email);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        throw new HttpFailure('invalid_email', 'Enter one email address, like name@example.com.');
      }
      return sendPage(
        reply,
        200,
        renderCheckInboxPage({ email: email.trim(), after: 'resend', devInbox }, shell),
      );
    },
  );

  const catcher = service.devCatcher;
  if (catcher) {
    app.get(
      '/dev/inbox',
      { config: pageWithoutDatabase, onRequest: guards.client },
      async (_request, reply) =>
        sendPage(reply, 200, renderDevInboxPage({ mails: catcher.list().map(toDevMail) }, shell)),
    );
  }
}

/** Longest token a wait page offers to post again; anything longer is no token of ours. */
const MAX_RETRY_TOKEN_LENGTH = 4096;

/**
 * Verifies, and when a dependency fails, keeps the token on the failure so the unavailable
 * page can offer "Try again" with the same link instead of sending the person back to the mail.
 */
async function verifyKeepingToken(service: Service, token: string | undefined) {
  try {
    return await service.verifications.verify(token);
  } catch (error) {
    if (error instanceof MailproofError && token && token.length <= MAX_RETRY_TOKEN_LENGTH) {
      throw HttpFailure.from(error, token);
    }
    throw error;
  }
}

function toDevMail(mail: CaughtMail): DevMail {
  return { ...mail, to: mail.to.join(', '), text: mail.text ?? '' };
}
