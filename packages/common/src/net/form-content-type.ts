import type {CustomFetch} from 'openid-client';

const FORM = 'application/x-www-form-urlencoded';

/**
 * fetch for openid-client, which labels every form it posts `application/x-www-form-urlencoded;
 * charset=UTF-8`. RFC 6749 names the bare media type, and some servers compare the header exactly:
 * glewlwyd's HTTP library refuses the device authorization request with the charset. A URL-encoded
 * form is ASCII, so the parameter says nothing any server needs.
 */
export const fetchWithBareFormType: CustomFetch = (url, options) => {
  const headers = Object.fromEntries(
    Object.entries(options.headers).map(([name, value]) => [
      name,
      name.toLowerCase() === 'content-type' && value.toLowerCase().startsWith(`${FORM};`) ? FORM : value,
    ]),
  );
  return fetch(url, {...options, headers});
};
