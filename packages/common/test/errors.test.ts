import {describe, expect, it} from 'vitest';
import {HubError} from '@hub/common/errors';

describe('HubError codes', () => {
  it('takes only the codes hub uses: a misspelt one does not type-check', () => {
    // @ts-expect-error 'not_loged_in' is not a HubErrorCode (npm run typecheck fails if it becomes one)
    const misspelt = new HubError('x', {code: 'not_loged_in'});
    expect(misspelt.code).toBe('not_loged_in');
    expect(new HubError('x').code).toBe('failure');
  });
});
