import type {FastifyInstance} from 'fastify';
import {REGISTRY_NOTIFICATIONS_PATH} from '@hub/protocol/hub-auth-endpoints';
import {envelopeSchema, manifestEvents, NOTIFICATION_MEDIA_TYPE} from '../../activity/notifications.js';
import type {TokenServiceDeps} from '../../service-deps.js';
import {StoreUnavailableError} from '../../store/sql.js';
import {bearerCheck} from '../bearer.js';

/** An envelope holds a few events (the registry sends them one at a time or in small batches). */
const BODY_LIMIT = 1024 * 1024;

/**
 * Where the registry posts its notifications (distribution's `notifications.endpoints`, with the
 * shared token as `Authorization: Bearer`): the manifests pushed, pulled and deleted, kept in the
 * store for the web hub's activity. Anything but a 2xx makes the registry send the envelope again,
 * so a store that cannot answer gets a 503, and a resent event is kept once.
 */
export function registerRegistryNotificationsRoute(app: FastifyInstance, deps: Pick<TokenServiceDeps, 'activity'>, token: string): void {
  const carriesToken = bearerCheck(token);
  app.register(async (notifications) => {
    notifications.addContentTypeParser(
      [NOTIFICATION_MEDIA_TYPE, 'application/json'],
      {parseAs: 'string', bodyLimit: BODY_LIMIT},
      (_request, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(Object.assign(new Error('the body is not JSON'), {statusCode: 400}), undefined);
        }
      },
    );
    notifications.post(REGISTRY_NOTIFICATIONS_PATH, {bodyLimit: BODY_LIMIT}, async (request, reply) => {
      if (!carriesToken(request)) {
        request.log.warn({event: 'registry notifications', outcome: 'unauthorized', address: request.ip}, 'registry notification refused');
        return reply
          .code(401)
          .send({error: 'unauthorized', message: 'the notification token is missing or wrong: see registryNotifications.token'});
      }
      const envelope = envelopeSchema.safeParse(request.body);
      if (!envelope.success) {
        const where = envelope.error.issues[0]?.path.join('.') || 'the body';
        return reply.code(400).send({error: 'bad_request', message: `not a notification envelope: ${where} is not valid`});
      }
      const events = manifestEvents(envelope.data);
      try {
        const kept = await deps.activity.record(events);
        return reply.send({received: envelope.data.events.length, kept});
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        request.log.error(
          {event: 'registry notifications', reason: error.message},
          'registry notification not kept: the store cannot answer (503, the registry sends it again)',
        );
        return reply.code(503).send({error: 'store_unavailable', message: 'the store cannot answer; send it again'});
      }
    });
  });
}
