import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import type { SignIns } from '../sign-ins.js';

/** OAuth sign-in for a monitor's form; the engine runs the flow (engine/sign-ins.ts), the page opens the address. */
export function signInHandlers(signIns: SignIns) {
  return {
    'signIn.start': (p) => signIns.start(p),
    'signIn.status': (p) => signIns.status(p.signInId),
    'signIn.cancel': (p) => ({ cancelled: signIns.cancel(p.signInId) }),
    'signIn.signOut': (p) => {
      if (!p.id) throw new RequestError('bad_request', 'which monitor?');
      return signIns.signOut(p.id);
    },
  } satisfies HandlersOf<'signIn'>;
}
