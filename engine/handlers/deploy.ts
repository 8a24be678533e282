import { RequestError, type HandlersOf } from '../../core/rpc/server.js';
import { DeployInputError, type Deployments } from '../fleet/deployments.js';

/** Deploy, upgrade and undeploy agents over SSH from the desktop (Settings → Machines); see engine/fleet/deployments.ts. */
export function deployHandlers(deployments: Deployments) {
  const checked = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DeployInputError) throw new RequestError('invalid', err.message, err.issues);
      throw err;
    }
  };
  return {
    'deploy.list': () => deployments.list(),
    'deploy.start': (p) => checked(() => deployments.start(p)),
    'deploy.upgrade': (p) => checked(() => deployments.upgrade(p.agentId)),
    'deploy.remove': (p) => checked(() => deployments.remove(p.agentId, p.keepData ?? false)),
  } satisfies HandlersOf<'deploy'>;
}
