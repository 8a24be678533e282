// What the Settings → Machines deploy e2e files share: one real Mosquitto, one real OpenSSH server on loopback (this
// machine, a throw-away key, host keys checked), the headless agent as the desktop (it receives from that broker) and
// Debian's Chromium, for the whole file; the deploy form filled field by field; a deploy run waited for by its state.
// The desktop deploys the run's one packed build (test/deploy/helpers.ts sharedBundle: packed once for every deploy
// file of a run) through PANOPTES_DEPLOY_BUNDLE, the form's counterpart of `panoptes deploy --bundle`.
import { after, before } from 'node:test';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { mosquittoAvailable, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { sshdAvailable, startSshd, type SshServer } from '../helpers/sshd.js';
import { sharedBundle } from '../deploy/helpers.js';
import { launchChromium, openAgentPage, startAgent, uiTest, watchPage, type Agent, type PageWatch } from './harness.js';

export const skip = !sshdAvailable() ? 'skipped: no /usr/sbin/sshd (apt-get install openssh-server openssh-client)' : !mosquittoAvailable() ? 'skipped: no /usr/sbin/mosquitto (apt-get install mosquitto)' : false;

/** The form's text fields, by the id after `dep-`. */
export interface Fill {
  target?: string;
  agentId?: string;
  broker?: string;
  port?: string;
  identity?: string;
  knownHosts?: string;
  sshConfig?: string;
  dir?: string;
  node?: string;
}

export interface DeployForm {
  broker: Mosquitto;
  sshd: SshServer;
  agent: Agent;
  page: Page;
  watch: PageWatch;
  /** A temp folder for the file; `dir` (inside it) is the install folder on the "remote" (this machine). */
  work: string;
  dir: string;
  /** The build the desktop deploys (a copy of the shared packed build; a test may put another build there). */
  bundle: string;
  /** The run's shared packed build. */
  goodBundle: string;
  brokerUrl: string;
  /** Fields that deploy for real (ssh options given one by one). */
  good: Fill;
  /** Open the page and Settings, and return the deploy form. */
  openForm(): Promise<Locator>;
  form(): Locator;
  /** The run the form shows. */
  run(): Locator;
  /** Fill the form: `good`, changed by `f` (unfolding the options; the service is the pid-file one). */
  fill(f: Fill): Promise<void>;
  /** Click Deploy and wait for the new run (not the one shown before) to end in `state`. */
  deployAndWait(state: 'failed' | 'done', timeout: number): Promise<void>;
  /** Deploy with these fields and wait for the run to fail: its message (and nothing was left in `dir`). */
  refused(f: Fill): Promise<string>;
  /** Open the form, deploy `good` as fleet1 and wait until Machines lists it online with its Upgrade button. */
  deployGood(): Promise<{ machine: Locator; deployed: Locator }>;
  /** The machine's Undeploy button, confirmed: wait until it leaves the list. */
  undeploy(machine: Locator, deployed: Locator): Promise<void>;
}

/** Set up once for the file (before its first test) and torn down after its last. */
export function deployForm(): { get: () => DeployForm; uiTest: (name: string, timeout: number, fn: () => Promise<void>) => void } {
  let d: DeployForm | null = null;
  let browser: Browser | null = null;
  before(async () => {
    if (skip) return;
    const work = mkdtempSync(path.join(os.tmpdir(), 'panoptes-e2e-deploy-'));
    const dir = path.join(work, 'agent');
    const [broker, sshd, goodBundle] = await Promise.all([startMosquitto({ persistence: false }), startSshd(), sharedBundle()]);
    const bundle = path.join(work, 'bundle.tgz');
    copyFileSync(goodBundle, bundle);
    process.env.PANOPTES_DEPLOY_BUNDLE = bundle;
    const agent = await startAgent((dd) => writeFileSync(path.join(dd, 'config.json'), JSON.stringify({ forwarding: { subscribe: [{ url: broker.url }] } })));
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1100, height: 1000 }, colorScheme: 'light' });
    const page = await context.newPage();
    const watch = watchPage(page);
    const brokerUrl = `mqtt://deployer:s3cret@127.0.0.1:${broker.port}`;
    const good: Fill = { target: sshd.target, agentId: 'fleet1', broker: brokerUrl, port: String(sshd.port), identity: sshd.identity, knownHosts: sshd.knownHosts, sshConfig: '', dir, node: '' };
    const form = () => page.getByRole('form', { name: 'Deploy an agent' });
    const run = () => form().locator('.deploy-run');
    const fill = async (f: Fill) => {
      if (!(await form().locator('#dep-port').isVisible())) await form().getByText('SSH and install options').click();
      for (const [k, v] of Object.entries({ ...good, ...f })) await form().locator(`#dep-${k}`).fill(v ?? '');
      await form().locator('#dep-service').selectOption('pidfile');
    };
    const deployAndWait = async (state: 'failed' | 'done', timeout: number) => {
      const before = (await run().count()) ? await run().getAttribute('data-run') : null;
      await form().getByRole('button', { name: 'Deploy' }).click();
      await form().locator(`.deploy-run[data-state="${state}"]${before ? `:not([data-run="${before}"])` : ''}`).waitFor({ timeout });
    };
    d = {
      broker,
      sshd,
      agent,
      page,
      watch,
      work,
      dir,
      bundle,
      goodBundle,
      brokerUrl,
      good,
      form,
      run,
      fill,
      deployAndWait,
      openForm: async () => {
        await openAgentPage(page, agent);
        await page.getByRole('link', { name: 'Settings' }).click();
        await form().waitFor();
        return form();
      },
      deployGood: async () => {
        await d!.openForm();
        await fill({});
        await deployAndWait('done', 240_000);
        const machine = page.getByRole('list', { name: 'Machines seen' }).locator('[data-agent="fleet1"]');
        await machine.getByText('online', { exact: true }).waitFor({ timeout: 60_000 });
        const deployed = machine.getByTestId('machine-deployed');
        await deployed.getByRole('button', { name: 'Upgrade' }).waitFor({ timeout: 30_000 });
        return { machine, deployed };
      },
      undeploy: async (machine, deployed) => {
        page.removeAllListeners('dialog');
        page.once('dialog', (dlg) => void dlg.accept());
        await deployed.getByRole('button', { name: 'Undeploy' }).click();
        await machine.waitFor({ state: 'detached', timeout: 90_000 });
        if (existsSync(dir)) throw new Error(`Undeploy left ${dir} behind`);
      },
      refused: async (f) => {
        await fill(f);
        await deployAndWait('failed', 90_000);
        const message = await run().getByRole('alert').innerText();
        if (existsSync(dir)) throw new Error(`a refused deploy left ${dir} behind: ${message}`);
        return message;
      },
    };
  }, { timeout: 290_000 });

  after(async () => {
    if (!d) return;
    // A failed step must not leave the deployed agent running: its supervisor stops it.
    try {
      process.kill(Number(readFileSync(path.join(d.dir, 'supervisor.pid'), 'utf8')), 'SIGTERM');
    } catch {
      /* not running */
    }
    await browser?.close();
    await d.agent.stop();
    await d.sshd.close();
    await d.broker.close();
    rmSync(d.work, { recursive: true, force: true });
  });

  return { get: () => d!, uiTest: (name, timeout, fn) => uiTest(() => d!.page, name, { timeout, skip }, fn) };
}
