/**
 * The User-Agent of the web hub's reads of the registry: hub-auth counts the pulls the registry
 * reports (its notifications), and a person looking at a page is not one.
 */
export const WEB_HUB_USER_AGENT = 'hub-web';
