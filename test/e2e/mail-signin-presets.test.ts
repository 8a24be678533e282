/**
 * "Sign in with Google" and "Sign in with Microsoft" in the mail form, in Debian's Chromium against the real headless
 * agent: the presets' own endpoints (Google's /o/oauth2/v2/auth, Microsoft's /{tenant}/oauth2/v2.0/authorize, their
 * token answers) are served by local servers in those providers' documented shapes, reached by the agent process
 * through PANOPTES_TEST_OAUTH_PRESET_ORIGINS (loopback origins only). The test presses "Allow" on the consent page
 * the form opened, the redirect comes back to the engine's listener (127.0.0.1 for Google, localhost for Microsoft,
 * as each documents), and after "Add monitor" a new mail in a real Dovecot (oauth2 passdb introspecting at that
 * provider's server) shows in the Feed as an event. Microsoft's device code ("Sign in with a code") is then used from
 * the edit form: the page shows Microsoft's verification address and the code, the "user" enters it there.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, startAgent, uiTestOn, watchPage, type Agent, type PageWatch } from './harness.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { startOAuthServer, type OAuthTestServer } from '../helpers/oauth-server.js';
import { waitFor } from '../helpers/tmp.js';

const GMAIL = 'carol@gmail.example';
const M365 = 'dave@contoso.example';
let google: OAuthTestServer;
let microsoft: OAuthTestServer;
let gmailBox: DovecotServer;
let m365Box: DovecotServer;
let agent: Agent;
let browser: Browser;
let page: Page;
let watch: PageWatch;

before(async () => {
  google = await startOAuthServer({ flavour: 'google', clientId: '123-abc.apps.googleusercontent.com', clientSecret: 'GOCSPX-desktop', user: { username: GMAIL, email: GMAIL } });
  microsoft = await startOAuthServer({ flavour: 'microsoft', clientId: '00000000-0000-0000-0000-00000000abcd', user: { username: M365, email: M365 } });
  google.consent = microsoft.consent = 'ask';
  // One mailbox per provider: each Dovecot checks tokens at its own provider's introspection endpoint.
  gmailBox = await startDovecot({ [GMAIL]: 'unused' }, { oauth2: { introspectionUrl: google.server.url('/introspect') } });
  m365Box = await startDovecot({ [M365]: 'unused' }, { oauth2: { introspectionUrl: microsoft.server.url('/introspect') } });
  // The agent is a child process and inherits this file's environment (its own process under the test runner).
  process.env.PANOPTES_TEST_OAUTH_PRESET_ORIGINS = `google=${google.server.origin} microsoft=${microsoft.server.origin}`;
  agent = await startAgent();
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 1400 }, colorScheme: 'light' })).newPage();
  watch = watchPage(page);
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await gmailBox?.close();
  await m365Box?.close();
  await google?.close();
  await microsoft?.close();
});

const uiTest = uiTestOn(() => page);
const message = (to: string, subject: string) => [`From: bob@example.org`, `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`, '', 'Hello', ''].join('\r\n');

/** The add form of a mail monitor on this Dovecot, signing in with OAuth at `provider`, up to the client id. */
async function mailForm(name: string, box: DovecotServer, provider: 'google' | 'microsoft', clientId: string): Promise<void> {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'Add monitor' }).click();
  await page.getByRole('button', { name: /Watches folders of an IMAP mailbox/ }).click();
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await page.getByLabel('IMAP server').fill('127.0.0.1');
  await page.getByLabel('IMAP port').fill(String(box.port));
  await page.getByRole('combobox', { name: 'IMAP security' }).selectOption('plain');
  await page.getByRole('combobox', { name: 'Sign-in' }).selectOption('oauth2');
  await page.getByRole('combobox', { name: 'Provider' }).selectOption(provider);
  await page.getByLabel('Client id').fill(clientId);
}

/** Press the button, "Allow" on the provider's consent page it opened; returns where the redirect landed. */
async function signIn(button: string, provider: OAuthTestServer, authorizePath: string, account: string): Promise<string> {
  const popup = page.context().waitForEvent('page', { timeout: 15_000 });
  await page.getByRole('button', { name: button, exact: true }).click();
  const consent = await popup;
  await consent.waitForLoadState();
  assert.equal(new URL(consent.url()).origin + new URL(consent.url()).pathname, provider.server.url(authorizePath), 'the preset\'s own authorization endpoint');
  await consent.getByRole('button', { name: 'Allow' }).click();
  await consent.getByText(new RegExp(`Panoptes is signed in as ${account}`)).waitFor({ timeout: 15_000 });
  const landed = consent.url();
  await consent.close();
  await page.getByRole('region', { name: 'Account sign-in' }).getByText(`Signed in as ${account}. Add the monitor to keep this sign-in.`).waitFor({ timeout: 15_000 });
  return landed;
}

/** Add the monitor, see it log in, deliver a mail, see it in the Feed. */
async function saveAndReceive(name: string, id: string, box: DovecotServer, to: string, subject: string): Promise<void> {
  await page.getByRole('button', { name: 'Add monitor' }).click();
  const card = page.getByRole('listitem', { name: `Monitor ${name}` });
  await card.waitFor({ timeout: 15_000 });
  await card.getByText(to).waitFor();
  await card.locator('.status-ok').waitFor({ timeout: 30_000 });
  box.deliver(to, message(to, subject));
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: new RegExp(`${subject} from ${id}`) }).waitFor({ timeout: 30_000 });
}

uiTest('"Sign in with Google" in the mail form: Google\'s consent page, back on 127.0.0.1, new mail arrives as an event', 120_000, async () => {
  await page.goto(agent.url);
  await page.locator('.conn-open').waitFor({ timeout: 15_000 });
  await mailForm('Gmail', gmailBox, 'google', google.clientId);
  await page.getByLabel('Client secret').fill('GOCSPX-desktop');
  const landed = await signIn('Sign in with Google', google, '/o/oauth2/v2/auth', GMAIL);
  assert.match(landed, /^http:\/\/127\.0\.0\.1:\d+\/\?/, 'Google: the loopback IP');
  await saveAndReceive('Gmail', 'mail:gmail', gmailBox, GMAIL, 'Lunch on Friday');
  assert.equal(google.counts.authorization_code, 1);
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});

uiTest('"Sign in with Microsoft" in the mail form: /common/oauth2/v2.0/authorize, back on localhost, new mail arrives as an event', 120_000, async () => {
  await mailForm('Work 365', m365Box, 'microsoft', microsoft.clientId);
  const landed = await signIn('Sign in with Microsoft', microsoft, '/common/oauth2/v2.0/authorize', M365);
  assert.match(landed, /^http:\/\/localhost:\d+\/\?/, 'Microsoft: http://localhost, as its app registrations match it');
  await saveAndReceive('Work 365', 'mail:work-365', m365Box, M365, 'Quarterly review');
  assert.equal(microsoft.counts.authorization_code, 1);
  assert.ok(!agent.output().includes('ignored'), agent.output());
  assert.deepEqual(watch.problems, []);
  assert.deepEqual(watch.externalRequests, []);
});

uiTest('"Sign in with a code" for Microsoft from the edit form: Microsoft\'s /devicelogin and the code are shown; once entered, the monitor uses the new sign-in', 120_000, async () => {
  await page.getByRole('link', { name: 'Monitors' }).click();
  const card = page.getByRole('listitem', { name: 'Monitor Work 365' });
  await card.getByRole('button', { name: 'Edit' }).click();
  const panel = page.getByRole('region', { name: 'Account sign-in' });
  await panel.getByText(`Signed in as ${M365} with Microsoft`).waitFor();
  await panel.getByRole('button', { name: 'Sign in with a code' }).click();
  const link = panel.getByRole('link', { name: microsoft.server.url('/devicelogin') });
  await link.waitFor({ timeout: 15_000 });
  const code = (await panel.locator('.sign-in-waiting strong').textContent())!;
  assert.deepEqual(microsoft.userCodes, [code], 'the code the page shows is the one Microsoft handed out');
  await waitFor(() => microsoft.devicePolls.includes('authorization_pending') || null, 'the engine polling Microsoft', 30_000);
  // The old grant stops working at Microsoft, so the mail below can only come through the grant the code makes.
  microsoft.revokeAll();
  microsoft.approveDevice(code); // the user types the code at microsoft.com/devicelogin on their phone
  await panel.getByText(`Signed in as ${M365}. The monitor uses it now.`).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await m365Box.stop(); // a reconnect logs in with the new grant's token (the old one's was revoked)
  await m365Box.start();
  m365Box.deliver(M365, message(M365, 'After the code'));
  await page.getByRole('link', { name: 'Feed' }).click();
  await page.getByRole('listitem', { name: /After the code from mail:work-365/ }).waitFor({ timeout: 60_000 });
  assert.equal(microsoft.devicePolls.at(-1), 'ok');
  assert.deepEqual(watch.problems, []);
});
