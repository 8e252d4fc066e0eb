import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify';
import * as oidc from 'openid-client';
import {passedOn} from '@hub/common/quote';
import {csrfTokenFor, formProblem} from './csrf.js';
import type {Html} from './html.js';
import type {Viewer} from './pages/layout.js';
import {messagePage, signInPage} from './pages/messages.js';
import {CALLBACK, HOME, SIGN_IN, SIGN_OUT, WEB_PREFIX} from '@hub/protocol/web-paths';
import {clearCookie, cookieNames, newSessionId, readCookie, sessionIdHash, setCookie} from './session-cookie.js';
import type {Person, WebDeps} from './web-deps.js';

/**
 * Sign-in as a backend for the browser: the authorization code flow with PKCE runs here, as a
 * confidential client; the provider's tokens are used once, to learn who signed in, and kept
 * nowhere. The browser holds the session cookie only (session-cookie.ts), and the session is a
 * row of hub-auth's store, by the hash of its id.
 */

/** A sign-in left unfinished this long is started again. */
const SIGN_IN_SECONDS = 600;
const PROVIDER_TIMEOUT_SECONDS = 10;

interface PendingSignIn {
  state: string;
  verifier: string;
  nonce: string;
  returnTo: string;
}

export interface SignedIn {
  person: Person;
  viewer: Viewer;
}

/** The signed-in person of a request, or undefined once the sign-in page has been sent. */
export type SignedInCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<SignedIn | undefined>;

const sendPage = (reply: FastifyReply, status: number, content: Html) =>
  reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(content.text);

/** Only a page of the web hub: never another site (an open redirect) nor `//host`. */
export function returnPath(value: unknown): string {
  return typeof value === 'string' && value.startsWith(`${WEB_PREFIX}/`) && !/[\\]|\/\//.test(value) ? value : HOME;
}

export function registerSignIn(web: FastifyInstance, deps: WebDeps): SignedInCheck {
  const names = cookieNames(deps.publicUrl);
  const redirectUri = new URL(CALLBACK, deps.publicUrl).href;
  const providerConfiguration = discoveryOnce(deps);

  web.get(SIGN_IN.slice(WEB_PREFIX.length), async (request, reply) => {
    let configuration: oidc.Configuration;
    try {
      configuration = await providerConfiguration();
    } catch (error) {
      request.log.warn({event: 'web sign-in', reason: (error as Error).message}, 'identity provider metadata not read');
      return sendPage(reply, 503, messagePage(503, 'The identity provider cannot be reached', 'Try to sign in again in a moment.'));
    }
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      verifier: oidc.randomPKCECodeVerifier(),
      nonce: oidc.randomNonce(),
      returnTo: returnPath((request.query as Record<string, unknown>).return),
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      ...deps.oidc.authorizationParameters,
      redirect_uri: redirectUri,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    // The verifier stays in the browser that started the sign-in (HttpOnly): a code that goes astray is useless without it.
    const value = Buffer.from(JSON.stringify(pending)).toString('base64url');
    reply.header('set-cookie', setCookie(names.signIn, value, {secure: names.secure, maxAgeSeconds: SIGN_IN_SECONDS}));
    return reply.code(303).header('cache-control', 'no-store').redirect(url.href);
  });

  web.get(CALLBACK.slice(WEB_PREFIX.length), async (request, reply) => {
    reply.header('set-cookie', clearCookie(names.signIn, names.secure));
    const pending = pendingOf(readCookie(request.headers.cookie, names.signIn));
    if (pending === undefined)
      return sendPage(reply, 400, signInPage(HOME, 'This sign-in was not started in this browser or took too long: sign in again.'));
    let person: Person;
    let providerSession: string | undefined;
    try {
      const configuration = await providerConfiguration();
      const tokens = await oidc.authorizationCodeGrant(configuration, new URL(request.url, deps.publicUrl), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const sid = tokens.claims()?.sid;
      providerSession = typeof sid === 'string' ? sid : undefined;
      person = await deps.personOf(tokens.access_token, request.ip);
    } catch (error) {
      const reason = passedOn((error as Error).message);
      request.log.info({event: 'web sign-in', outcome: 'refused', reason}, 'web sign-in refused');
      return sendPage(reply, 403, signInPage(pending.returnTo, `The sign-in did not succeed: ${reason}`));
    }
    const sessionId = newSessionId();
    const now = deps.nowSeconds();
    await deps.sessions.create({
      idHash: sessionIdHash(sessionId),
      person,
      providerSession,
      nowSeconds: now,
      expiresAt: now + deps.sessionLifetimeSeconds,
    });
    request.log.info({event: 'web sign-in', outcome: 'signed in', account: person.account}, 'web sign-in');
    reply.header('set-cookie', [
      clearCookie(names.signIn, names.secure),
      setCookie(names.session, sessionId, {secure: names.secure, maxAgeSeconds: deps.sessionLifetimeSeconds}),
    ]);
    return reply.code(303).header('cache-control', 'no-store').redirect(pending.returnTo);
  });

  web.post(SIGN_OUT.slice(WEB_PREFIX.length), async (request, reply) => {
    const sessionId = readCookie(request.headers.cookie, names.session);
    const problem = formProblem(
      request.headers,
      deps.publicUrl.origin,
      sessionId === undefined ? undefined : csrfTokenFor(sessionId),
      request.body,
    );
    if (problem !== undefined) {
      request.log.warn({event: 'web sign-out', outcome: 'refused', reason: problem}, 'web sign-out refused');
      return sendPage(reply, 403, messagePage(403, 'Refused', `This request was refused: ${problem}.`));
    }
    reply.header('set-cookie', clearCookie(names.session, names.secure));
    if (sessionId === undefined) return reply.code(303).redirect(HOME);
    await deps.sessions.end(sessionIdHash(sessionId), deps.nowSeconds());
    request.log.info({event: 'web sign-out'}, 'web sign-out');
    return reply.code(303).redirect((await providerSignOut(providerConfiguration, deps)) ?? HOME);
  });

  return async (request, reply) => {
    const sessionId = readCookie(request.headers.cookie, names.session);
    const person = sessionId === undefined ? undefined : await deps.sessions.find(sessionIdHash(sessionId), deps.nowSeconds());
    if (sessionId !== undefined && person !== undefined)
      return {person, viewer: {account: person.account, csrfToken: csrfTokenFor(sessionId)}};
    if (sessionId !== undefined) reply.header('set-cookie', clearCookie(names.session, names.secure));
    sendPage(reply, 401, signInPage(returnPath(request.url)));
    return undefined;
  };
}

function pendingOf(cookie: string | undefined): PendingSignIn | undefined {
  if (cookie === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')) as Partial<PendingSignIn>;
    const {state, verifier, nonce} = value;
    if (typeof state !== 'string' || typeof verifier !== 'string' || typeof nonce !== 'string') return undefined;
    return {state, verifier, nonce, returnTo: returnPath(value.returnTo)};
  } catch {
    return undefined;
  }
}

/** The provider's metadata, read at the first sign-in and kept; a failed read is tried again next time. */
function discoveryOnce(deps: WebDeps): () => Promise<oidc.Configuration> {
  let configuration: Promise<oidc.Configuration> | undefined;
  return () => {
    if (configuration === undefined) {
      const issuer = new URL(deps.oidc.issuer);
      configuration = oidc.discovery(
        issuer,
        deps.oidc.clientId,
        {client_secret: deps.oidc.clientSecret},
        oidc.ClientSecretBasic(deps.oidc.clientSecret),
        {
          timeout: PROVIDER_TIMEOUT_SECONDS,
          // The operator named a plain-http provider (a test or development set-up): openid-client refuses one unless told.
          ...(issuer.protocol === 'http:' ? {execute: [oidc.allowInsecureRequests]} : {}),
        },
      );
      configuration.catch(() => (configuration = undefined));
    }
    return configuration;
  };
}

/** RP-initiated logout, where the provider offers it: its end-session page, which comes back to the sign-in page. */
async function providerSignOut(configuration: () => Promise<oidc.Configuration>, deps: WebDeps): Promise<string | undefined> {
  try {
    const config = await configuration();
    if (config.serverMetadata().end_session_endpoint === undefined) return undefined;
    return oidc.buildEndSessionUrl(config, {client_id: deps.oidc.clientId, post_logout_redirect_uri: new URL(HOME, deps.publicUrl).href})
      .href;
  } catch {
    return undefined;
  }
}
