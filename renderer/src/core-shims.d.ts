// core/protocol.ts pulls in core/log.ts for a type; that file also holds Node-side code that mentions
// `process`. The renderer never runs it (type imports only), so this minimal shape just lets tsc check it
// without loading all of Node's types into browser code.
declare const process: { env: Record<string, string | undefined>; stderr: { write(s: string): unknown } };
