/**
 * The holder: the person (or robot) at the identity provider, issuer and `sub`, that an account
 * name is bound to (accounts/bindings.ts) and a sign-in session belongs to (sessions/sessions.ts).
 */
export interface Holder {
  issuer: string;
  subject: string;
}
