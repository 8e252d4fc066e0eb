/**
 * Where hub-auth takes what other servers send it, whose addresses an operator writes into their
 * configuration: the identity provider's registered back-channel logout URI, the registry's
 * notification endpoint. The test stack and the shipped deploy files name the same paths.
 */

/** OpenID Connect Back-Channel Logout 1.0: the provider POSTs a `logout_token` here. */
export const BACKCHANNEL_LOGOUT_PATH = '/backchannel-logout';

/** The registry's notifications (distribution's `notifications.endpoints`): an internal address, not routed publicly. */
export const REGISTRY_NOTIFICATIONS_PATH = '/registry/notifications';
