import {describe, expect, it} from 'vitest';
import {buildSession, grantFromTokens} from '../../../src/session/build.js';
import type {Session} from '../../../src/store/session.js';

describe('buildSession', () => {
  const settings = {issuer: 'https://idp.example.test', clientId: 'ci-robot', scopes: 'openid'};
  const robot: Session = {
    registry: 'r.example.test',
    ...settings,
    account: 'robots/ci-robot',
    subject: 'ci-robot',
    accessToken: 'old',
    clientSecret: 'robot-secret',
    expiresAt: 1,
  };

  it("keeps a robot's client secret across renewals, so that it can renew again", () => {
    const renewed = buildSession(robot.registry, settings, robot, grantFromTokens({access_token: 'new', expires_in: 300}, 1000), robot);
    expect(renewed).toMatchObject({accessToken: 'new', clientSecret: 'robot-secret', expiresAt: 1300});
  });
});
