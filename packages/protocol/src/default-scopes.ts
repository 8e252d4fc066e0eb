/**
 * The scopes hub asks for when neither the user nor the registry's hub-configuration names others,
 * and what hub-auth's document says when its operator sets none. A module of its own: the
 * credential helper reads it on every call and must not load the document's schema (zod) for it.
 */
export const DEFAULT_SCOPES = 'openid profile offline_access';
