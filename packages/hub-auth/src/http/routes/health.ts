import type {FastifyInstance} from 'fastify';
import type {TokenServiceDeps} from '../../service-deps.js';

export function registerHealthRoutes(app: FastifyInstance, deps: TokenServiceDeps): void {
  app.get('/healthz', () => ({status: 'ok'}));
  // Ready once the identity provider's metadata is at hand: before that no token can be checked.
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.ready();
      return {status: 'ready'};
    } catch (error) {
      return reply.code(503).send({status: 'not ready', reason: (error as Error).message});
    }
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.text()),
  );
}
