'use strict';
// Helpers for Préau's browser tests: a demo server per test file, Debian's
// chromium driven by playwright-core, axe checks, sign in / sign out.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { AxeBuilder } = require('@axe-core/playwright');

const DEMO_PASSWORD = 'preau-demo';
const READY_TIMEOUT_MS = 120_000; // the first run creates the demo data and hashes passwords
const ACCOUNT_LINE = /^(National_[A-Z]{3})\s+(\S+)\s*(.*)$/;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(text, lines = 60) {
  return text.split('\n').slice(-lines).join('\n');
}

function parseAccounts(stdout) {
  const accounts = [];
  for (const line of stdout.split('\n')) {
    const m = ACCOUNT_LINE.exec(line.trimStart());
    if (m) accounts.push({ profile: m[1], login: m[2], about: m[3].trim() });
  }
  return accounts;
}

/**
 * Start `preau demo` on a fresh data dir and a free loopback port.
 * Resolves to { baseURL, accounts: [{profile, login}], stop(), logs(), printLogs() }.
 */
async function startDemo() {
  const bin = path.resolve(
    process.env.PREAU_BIN || path.join(__dirname, '..', '..', 'target', 'debug', 'preau'),
  );
  if (!fs.existsSync(bin)) {
    throw new Error(`preau binary not found at ${bin} (build it with \`cargo build -p preau\` or set PREAU_BIN)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'preau-e2e-'));
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const verbose = process.env.PREAU_E2E_VERBOSE === '1';

  const child = spawn(bin, ['demo', '--data', dataDir, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  let stdout = '';
  let stderr = '';
  let exited = null;
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
    if (verbose) process.stderr.write(d);
  });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    if (verbose) process.stderr.write(d);
  });
  const exitedPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  // Never leave a server behind, even if the test process dies.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const logs = () =>
    `--- preau demo stdout (tail) ---\n${tail(stdout)}\n--- preau demo stderr (tail) ---\n${tail(stderr)}`;
  const printLogs = (why = 'failure') => {
    console.error(`\n[${why}] server at ${baseURL}\n${logs()}\n`);
  };

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    process.removeListener('exit', killOnExit);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        throw new Error(`preau demo exited early (code ${exited.code}, signal ${exited.signal})`);
      }
      try {
        const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`${baseURL}/healthz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
      }
      await sleep(100);
    }
    // The login table may be flushed just after the listener is up.
    let accounts = parseAccounts(stdout);
    for (let i = 0; accounts.length === 0 && i < 50; i++) {
      await sleep(100);
      accounts = parseAccounts(stdout);
    }
    if (accounts.length === 0) {
      throw new Error('no demo accounts found on stdout (expected lines like "National_ELV  <login> ...")');
    }
    return { baseURL, accounts, stop, logs, printLogs };
  } catch (err) {
    printLogs('startDemo failed');
    await stop();
    throw err;
  }
}

/** Debian's chromium, headless, with the flags this network needs (DESIGN.md §5). */
function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Throw a readable error if axe finds WCAG 2.1 A/AA violations on the page. */
async function expectNoAxeViolations(page, label) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const violations = results.violations;
  if (violations.length === 0) return;
  const lines = [`${violations.length} accessibility violation(s) on ${label} (${page.url()}):`];
  for (const v of violations) {
    lines.push(`- ${v.id} [${v.impact}] ${v.help}`);
    for (const node of v.nodes.slice(0, 5)) {
      lines.push(`    at ${node.target.join(' ')}`);
    }
    if (v.nodes.length > 5) lines.push(`    … and ${v.nodes.length - 5} more`);
    lines.push(`    ${v.helpUrl}`);
  }
  throw new Error(lines.join('\n'));
}

/** Click something that submits a form or follows a link, and wait for the new page. */
async function clickAndWait(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
}

async function signIn(page, baseURL, login, password = DEMO_PASSWORD) {
  await page.goto(`${baseURL}/auth/login`);
  await page.getByLabel(/^Identifiant/).fill(login);
  await page.getByLabel(/^Mot de passe/).fill(password);
  await clickAndWait(page, page.getByRole('button', { name: 'Se connecter', exact: true }));
}

async function signOut(page) {
  await clickAndWait(page, page.getByRole('button', { name: 'Se déconnecter', exact: true }));
}

/** The first account of each profile, in the order the demo lists them. */
function firstAccountPerProfile(accounts) {
  const seen = new Map();
  for (const a of accounts) if (!seen.has(a.profile)) seen.set(a.profile, a);
  return [...seen.values()];
}

function firstAccountOf(accounts, profile) {
  const a = accounts.find((x) => x.profile === profile);
  if (!a) {
    const listed = [...new Set(accounts.map((x) => x.profile))].join(', ');
    throw new Error(`the demo lists no ${profile} account (profiles listed: ${listed})`);
  }
  return a;
}

module.exports = {
  DEMO_PASSWORD,
  startDemo,
  launchBrowser,
  expectNoAxeViolations,
  clickAndWait,
  signIn,
  signOut,
  firstAccountPerProfile,
  firstAccountOf,
  parseAccounts,
};
