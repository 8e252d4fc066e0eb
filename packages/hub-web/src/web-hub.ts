import type {FastifyInstance} from 'fastify';
import {registerBrowsing} from './browse.js';
import {registerSignIn} from './sign-in.js';
import {registerStyle} from './style.js';
import {securityHeaders} from './security-headers.js';
import {messagePage} from './pages/messages.js';
import {WEB_PREFIX} from '@hub/protocol/web-paths';
import type {WebDeps} from './web-deps.js';

/** The web hub's public entry: what hub-auth gives it (web-deps.ts) and the routes it adds under /web. */

export type {Grantee, LazyToken, NamespaceGrant, Person, RegistryActivity, RegistryEvent, WebDeps, WebSessionStore} from './web-deps.js';

export function registerWebHub(app: FastifyInstance, deps: WebDeps): void {
  app.register(
    async (web) => {
      web.addHook('onRequest', async (_request, reply) => {
        reply.headers(securityHeaders(deps.oidc.issuer, deps.publicUrl.protocol === 'https:'));
      });
      web.setErrorHandler((error, request, reply) => {
        request.log.error({event: 'web', err: error}, 'web page failed');
        return reply
          .code(500)
          .type('text/html; charset=utf-8')
          .send(messagePage(500, 'Something went wrong', 'hub-auth could not show this page; the failure is in its log.').text);
      });
      web.setNotFoundHandler((_request, reply) => reply.code(404).type('text/html; charset=utf-8').send(messagePage(404).text));
      registerStyle(web);
      const signedIn = registerSignIn(web, deps);
      registerBrowsing(web, deps, signedIn);
    },
    {prefix: WEB_PREFIX},
  );
}
