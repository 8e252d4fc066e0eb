/**
 * A resource and actions on it, as the registry token-auth spec writes them: what a client asks
 * for in a `scope` (`repository:alice/app:pull,push`) and what a registry token grants in an
 * entry of its `access` claim. The two are one shape.
 */
export interface ResourceScope {
  type: string;
  class?: string;
  name: string;
  actions: string[];
}
