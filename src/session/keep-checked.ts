import type {Context} from '../context.js';
import {describeSeconds} from '@hub/common/duration';
import {HubError} from '@hub/common/errors';
import {credentialsNow, type Credentials} from './credentials.js';
import {recheckWindow} from './identity-token.js';

/** The longest wait between two looks, whatever the window: a look that finds nothing due costs a keychain read. */
const MAX_PERIOD_SECONDS = 300;

/**
 * Keeps the sign-in session of the identity token the engine pushes or pulls with re-checked at
 * hub-auth for as long as the transfer runs: hub-auth trades it only while its session was
 * re-checked within the token's window (`chk`), and a push may last longer. Four looks a window;
 * each renews, when due, as the credential helper does (the provider's access token refreshed if
 * need be, and traded with the session's identity token, which re-checks the session). The stop
 * function ends it.
 */
export function keepSessionChecked(ctx: Context, credentials: Credentials): () => void {
  const window = credentials.identityToken === undefined ? undefined : recheckWindow(credentials.identityToken);
  if (window === undefined) return () => {};
  let looking: Promise<void> | undefined;
  let warned = false;
  const look = async () => {
    try {
      // The account the transfer goes as, even if `hub switch` made another active meanwhile.
      await credentialsNow(ctx, credentials.registry.host, credentials.session.account);
      warned = false;
    } catch (error) {
      if (warned) return;
      warned = true;
      const why = error instanceof HubError ? error.message : String(error);
      ctx.say(
        `! Could not re-check the session for ${credentials.registry.host} (${why}); hub keeps trying. A transfer that outlasts hub-auth's window (${describeSeconds(window)}) without one fails.`,
      );
    }
  };
  const timer = setInterval(
    () => {
      looking ??= look().finally(() => (looking = undefined));
    },
    Math.min(window / 4, MAX_PERIOD_SECONDS) * 1000,
  );
  timer.unref();
  return () => clearInterval(timer);
}
