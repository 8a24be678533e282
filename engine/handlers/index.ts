import type { Handlers } from '../../core/rpc/server.js';
import { actionHandlers, type ActionsHost } from './actions.js';
import { channelHandlers, type ChannelHost } from './channels.js';
import { eventHandlers } from './events.js';
import { flagHandlers } from './flags.js';
import { forwardingHandlers } from './forwarding.js';
import { fleetHandlers } from './fleet.js';
import { deployHandlers } from './deploy.js';
import { Deployments } from '../fleet/deployments.js';
import type { HandlerHost } from './host.js';
import { maintenanceHandlers } from './maintenance.js';
import { monitorHandlers } from './monitors.js';
import { notificationHandlers } from './notifications.js';
import { ruleHandlers } from './rules.js';
import { settingsHandlers } from './settings.js';
import { signInHandlers } from './sign-in.js';
import { SignIns } from '../sign-ins.js';
import { versionHandlers } from './versions.js';

export type { HandlerHost } from './host.js';

/** Every request of the protocol, answered by the engine; one file per subject. A missing method fails to compile. */
/** Deploys (deploy.*) and forgetting a machine (fleet.forget) share where agents were deployed and the runs under way. */
export function createDeployments(engine: HandlerHost): Deployments {
  return new Deployments({ dataDir: engine.dataDir, kv: engine.store.kv, log: engine.log.child('deploy'), publish: (run) => engine.broadcast('deploy', run) });
}

export function createHandlers(engine: HandlerHost & ChannelHost & ActionsHost, signIns: SignIns = new SignIns(engine), deployments: Deployments = createDeployments(engine)): Handlers {
  return {
    ...settingsHandlers(engine),
    ...eventHandlers(engine),
    ...monitorHandlers(engine, signIns),
    ...signInHandlers(signIns),
    ...ruleHandlers(engine),
    ...flagHandlers(engine),
    ...maintenanceHandlers(engine),
    ...notificationHandlers(engine),
    ...actionHandlers(engine),
    ...channelHandlers(engine),
    ...forwardingHandlers(engine),
    ...fleetHandlers(engine, deployments),
    ...deployHandlers(deployments),
    ...versionHandlers(engine),
  } satisfies Handlers;
}
