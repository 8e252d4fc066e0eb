/**
 * The audience (RFC 8707 resource indicator) of the access tokens a registry's hub-auth accepts,
 * derived from the registry's own name. hub asks the identity provider for the audience of the
 * registry the person named, and hub-auth accepts by default only the audience of its own registry:
 * a token hub obtained for one registry is then worthless at every other one, whatever a
 * registry's /.well-known/hub-configuration claims.
 *
 * `host` is the registry as docker names it (host and port, as in `localhost:5000`). The port
 * stays: two registries on one host are two audiences. A loopback registry is spoken to in plain
 * HTTP, yet its audience is still an https URL: the audience is a name, never fetched.
 */
export function registryAudience(host: string): string {
  return `https://${host.trim().toLowerCase()}`;
}
