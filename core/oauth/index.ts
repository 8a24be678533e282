// OAuth 2.0 for plug-ins that sign in to a provider (mail over IMAP/SMTP, Microsoft Graph): sign-in flows,
// provider presets and discovery, grants kept in the secret store, and tokens refreshed before they expire.
export * from './errors.js';
export * from './grant.js';
export * from './providers.js';
export * from './sign-in.js';
export * from './token-source.js';
export { accountFromIdToken, missingScopes } from './token-endpoint.js';
export * from './revoke.js';
