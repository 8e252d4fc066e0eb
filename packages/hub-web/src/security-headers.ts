/**
 * The headers of every web hub answer. No script runs at all (script-src 'none'); styles come from
 * the one stylesheet; forms post here only, and sign-out's redirect goes on to the provider's
 * end-session page, which form-action must allow since browsers check it on a form's redirects.
 * Over https, browsers are told to stay on https.
 */
export function securityHeaders(issuer: string, https: boolean): Record<string, string> {
  return {
    ...(https ? {'strict-transport-security': 'max-age=31536000'} : {}),
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'none'",
      "style-src 'self'",
      "img-src 'self'",
      `form-action 'self' ${new URL(issuer).origin}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}
