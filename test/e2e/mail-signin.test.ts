/**
 * "Sign in" for a mail account, in Debian's Chromium against the real headless agent: the mail form's button has
 * the engine start the sign-in, the page opens the provider's consent page (a local authorization server written
 * to the RFCs) where the test presses "Allow", the redirect comes back to the engine's own listener on 127.0.0.1,
 * and the new monitor logs in to a real Dovecot whose oauth2 passdb checks the token at the server's introspection
 * endpoint. Mail arrives as events while the short-lived token is renewed; a grant revoked at the provider shows
 * "Sign in again" on the monitor, signing in again from the edit form mends it, and "Sign out" forgets it.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, startAgent, uiTestOn, watchPage, type Agent, type PageWatch } from './harness.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startOAuthServer, type OAuthTestServer } from '../helpers/oauth-server.js';
import { parseGrant } from '../../core/oauth/index.js';
import { waitFor } from '../helpers/tmp.js';

const USER = 'alice@example.org';
/** Short enough that the token is renewed (in its last quarter) during the test. */
const LIFETIME_S = 12;
let auth: OAuthTestServer;
let dovecot: DovecotServer;
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  auth = await startOAuthServer({ user: { username: USER, email: USER }, accessTokenSeconds: LIFETIME_S });
  auth.consent = 'ask';
  dovecot = await startDovecot({ [USER]: 'not-used-by-oauth' }, { oauth2: { introspectionUrl: auth.server.url('/introspect') } });
  agent = await startAgent();
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 1400 }, colorScheme: 'light' })).newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await dovecot?.close();
  await auth?.close();
});

const uiTest = uiTestOn(() => page);
const message = (subject: string) => [`From: bob@example.org`, `To: ${USER}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, '', 'Hello', ''].join('\r\n');
const secrets = () => JSON.parse(readFileSync(path.join(agent.dataDir, 'secrets.json'), 'utf8')) as Record<string, Record<string, string>>;

/** Press the sign-in button, "Allow" on the provider's page the app opened, and see the provider's "Signed in". */
async function signInAtProvider(button: RegExp): Promise<void> {
  const popup = page.context().waitForEvent('page', { timeout: 15_000 });
  await page.getByRole('button', { name: button }).click();
  const consent = await popup;
  assert.ok(consent.url().startsWith(auth.server.url('/authorize')), `the provider's page opened, got ${consent.url()}`);
  await consent.getByRole('button', { name: 'Allow' }).click();
  // The redirect lands on the engine's one-shot listener on 127.0.0.1 (a port of its own), which answers the tab.
  await consent.getByText(/Panoptes is signed in as alice@example.org/).waitFor({ timeout: 15_000 });
  assert.match(consent.url(), /^http:\/\/127\.0\.0\.1:\d+\/\?/);
  await consent.close();
}

uiTest('add a mail monitor by signing in with the provider; mail arrives as events while the token is renewed', 180_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /Watches folders of an IMAP mailbox/ }).click();

  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Work mail');
  await page.getByLabel('IMAP server').fill('127.0.0.1');
  await page.getByLabel('IMAP port').fill(String(dovecot.port));
  await page.getByRole('combobox', { name: 'IMAP security' }).selectOption('plain');
  // No sign-in button while the account uses a password; the stored grant never has an input of its own.
  assert.equal(await page.getByRole('region', { name: 'Account sign-in' }).count(), 0);
  assert.equal(await page.getByLabel('Signed-in account').count(), 0);
  await page.getByRole('combobox', { name: 'Sign-in' }).selectOption('oauth2');
  await page.getByRole('combobox', { name: 'Provider' }).selectOption('microsoft');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).waitFor();
  await page.getByRole('combobox', { name: 'Provider' }).selectOption('generic');
  await page.getByLabel('Issuer URL').fill(auth.issuer);

  // Without a client id the engine refuses at that field; nothing opens.
  await page.getByRole('button', { name: 'Sign in with your provider' }).click();
  await page.getByRole('alert').filter({ hasText: /client id/ }).first().waitFor();
  await page.getByLabel('Client id').fill(auth.clientId);

  await signInAtProvider(/^Sign in with your provider$/);
  const panel = page.getByRole('region', { name: 'Account sign-in' });
  await panel.getByText('Signed in as alice@example.org. Add the monitor to keep this sign-in.').waitFor({ timeout: 15_000 });
  assert.equal(await page.getByRole('alert').filter({ hasText: /client id/ }).count(), 0, 'the earlier refusal no longer stands at the field');
  await screenshot(page, 'mail-signin');

  await page.getByRole('button', { name: 'Add monitor' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Work mail' });
  await card.waitFor({ timeout: 15_000 });
  await card.getByText(USER).waitFor();
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });

  const grant = parseGrant(secrets()['mail:work-mail']!.oauthGrant)!;
  assert.ok(grant.refreshToken, 'the grant is in the 0600 secret store');
  const configText = readFileSync(path.join(agent.dataDir, 'config.json'), 'utf8');
  assert.ok(!configText.includes(grant.accessToken) && !configText.includes(grant.refreshToken!), 'no token in config.json');
  assert.ok(!agent.output().includes(grant.refreshToken!), 'no token in the agent\'s output');

  dovecot.deliver(USER, message('Quarterly numbers'));
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /Quarterly numbers from mail:work-mail/ }).waitFor({ timeout: 30_000 });

  // The token lives 12 s: renewed before it expires, while the connection stays up; a reconnect after the first
  // token expired logs in with the renewed one.
  await waitFor(() => parseGrant(secrets()['mail:work-mail']!.oauthGrant)!.accessToken !== grant.accessToken || null, 'the renewed token in the secret store', LIFETIME_S * 1000 + 20_000, 250);
  await waitFor(() => !auth.isActive(grant.accessToken) || null, 'the first token to expire', LIFETIME_S * 1000 + 5_000, 250);
  await dovecot.stop();
  await dovecot.start();
  dovecot.deliver(USER, message('After the token was renewed'));
  await page.getByRole('listitem', { name: /After the token was renewed from mail:work-mail/ }).waitFor({ timeout: 60_000 });
  assert.ok(auth.counts.refresh_token >= 1);
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});

uiTest('a grant revoked at the provider shows "Sign in again"; signing in from the edit form mends it; "Sign out" forgets it', 180_000, async () => {
  const refusedBefore = auth.counts.refused_refresh;
  auth.revokeAll(); // the user removed Panoptes in their account's security settings
  await dovecot.stop();
  await dovecot.start();
  await page.getByRole('link', { name: 'Monitors' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Work mail' });
  await card.getByText(/Sign in again/).first().waitFor({ timeout: 60_000 });
  await card.locator('.status-failing').waitFor();
  // The card can say "Sign in again" (the refused grant, pushed with the monitor list) while its health still shows
  // the mail server's refusal that led to the refresh; the provider's words follow with the next health push.
  await card.getByText(/no longer accepts this account's sign-in/).first().waitFor({ timeout: 30_000 });
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /alice@example.org: sign in again/ }).waitFor({ timeout: 15_000 });
  assert.equal(auth.counts.refused_refresh - refusedBefore, 1, 'the refused grant is not sent again and again');

  await page.getByRole('link', { name: 'Monitors' }).click();
  await card.getByRole('button', { name: 'Edit' }).click();
  const panel = page.getByRole('region', { name: 'Account sign-in' });
  await panel.getByText(/Sign in again/).waitFor();
  await signInAtProvider(/^Sign in with your provider again$/);
  await panel.getByText('Signed in as alice@example.org. The monitor uses it now.').waitFor({ timeout: 15_000 });
  await panel.getByText(/Signed in as alice@example.org with/).waitFor();
  dovecot.deliver(USER, message('Back after signing in again'));
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /Back after signing in again from mail:work-mail/ }).waitFor({ timeout: 30_000 });

  await page.getByRole('link', { name: 'Monitors' }).click();
  await card.getByRole('button', { name: 'Edit' }).click();
  await panel.getByText(/^Signing out also revokes the sign-in at 127\.0\.0\.1:\d+\.$/).waitFor();
  const revokedBefore = auth.counts.revoke;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await panel.getByText('Not signed in').waitFor();
  await panel.getByText(/^Signed out: the sign-in was revoked at 127\.0\.0\.1:\d+ and forgotten here\.$/).waitFor({ timeout: 15_000 });
  assert.equal(auth.counts.revoke - revokedBefore, 1, 'revoked at the provider (RFC 7009)');
  assert.equal(secrets()['mail:work-mail']?.oauthGrant, undefined, 'the grant left the secret store');
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await card.getByText('not signed in', { exact: true }).waitFor();
  await card.locator('.status-failing').waitFor({ timeout: 30_000 });
  assert.deepEqual(watch.problems, []);
});
