import {createHash, timingSafeEqual} from 'node:crypto';
import type {FastifyRequest} from 'fastify';

/**
 * A shared secret that requests carry as a bearer token (the admin API's credential, the
 * registry's notification token), compared so that the time taken says nothing of how much of a
 * guess was right: both sides are hashed to one length first.
 */
export function bearerCheck(secret: string): (request: FastifyRequest) => boolean {
  const expected = digest(secret);
  return (request) => timingSafeEqual(digest(bearerOf(request)), expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function bearerOf(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
}
