import {describe, expect, it} from 'vitest';
import {crossSiteProblem, csrfTokenFor, isCsrfToken} from '../src/csrf.js';

const ORIGIN = 'https://hub.example.com';

describe('CSRF protection', () => {
  it("a session's token matches that session only, and gives the session id away to nobody", () => {
    const token = csrfTokenFor('session-1');
    expect(isCsrfToken(csrfTokenFor('session-1'), token)).toBe(true);
    expect(isCsrfToken(csrfTokenFor('session-2'), token)).toBe(false);
    expect(isCsrfToken(csrfTokenFor('session-1'), undefined)).toBe(false);
    expect(isCsrfToken(csrfTokenFor('session-1'), `${token}x`)).toBe(false);
    expect(token).not.toContain('session-1');
  });

  it('refuses what the browser says comes from another site or origin', () => {
    expect(crossSiteProblem({'sec-fetch-site': 'same-origin', origin: ORIGIN}, ORIGIN)).toBeUndefined();
    expect(crossSiteProblem({}, ORIGIN)).toBeUndefined();
    expect(crossSiteProblem({'sec-fetch-site': 'cross-site'}, ORIGIN)).toMatch(/another site/);
    expect(crossSiteProblem({'sec-fetch-site': 'same-site'}, ORIGIN)).toMatch(/another site/);
    expect(crossSiteProblem({origin: 'https://evil.example'}, ORIGIN)).toMatch(/another origin \(https:\/\/evil.example\)/);
    expect(crossSiteProblem({origin: 'null'}, ORIGIN)).toMatch(/another origin/);
  });
});
