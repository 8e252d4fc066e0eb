import {describe, expect, it} from 'vitest';
import {deletePath, imagePath, pageOf, repositoryPath} from '../src/web-paths.js';

describe('page paths', () => {
  it('name a repository with slashes, and an image of it by tag or digest after /-/', () => {
    expect(repositoryPath('alice/tools/app')).toBe('/web/repositories/alice/tools/app');
    expect(imagePath('alice/app', 'v1')).toBe('/web/repositories/alice/app/-/images/v1');
    expect(pageOf('alice/tools/app')).toEqual({repository: 'alice/tools/app'});
    expect(pageOf('alice/app/-/images/sha256%3Aabc')).toEqual({repository: 'alice/app', reference: 'sha256:abc'});
  });

  it("name a tag's deletion after /-/delete/", () => {
    expect(deletePath('alice/app', 'v1.0')).toBe('/web/repositories/alice/app/-/delete/v1.0');
    expect(pageOf('alice/app/-/delete/v1.0')).toEqual({repository: 'alice/app', reference: 'v1.0', deleting: true});
  });

  it('anything else after /-/ names no page', () => {
    expect(pageOf('alice/app/-/other')).toEqual({repository: 'alice/app', reference: ''});
  });
});
