import type http from 'node:http';

/**
 * Limits for Panoptes' own HTTP servers (the agent's UI/protocol server and the desktop's route server). A sender
 * trickling its headers or body in holds a connection and a file descriptor: Node's defaults allow 5 minutes for a
 * request. Ours arrive over loopback, whole, in well under a second; these end the others. Node checks them on a
 * timer that runs while the server listens, connections or not: every 5 s keeps an idle engine's wake-ups down
 * and still ends trickled headers within 15 s and a trickled body within 35 s.
 */
export const REQUEST_LIMITS: http.ServerOptions = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 5_000 };
