'use strict';
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const {
  startDemo,
  launchBrowser,
  expectNoAxeViolations,
  clickAndWait,
  signIn,
  signOut,
  firstAccountOf,
} = require('../lib/harness');

const NEW_PASSWORD = 'Une-phrase-de-passe-2026!';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

afterEach((t) => {
  if (!t.passed) demo?.printLogs(`test failed: ${t.name}`);
});

test('a director generates an activation code and the user activates the account', async () => {
  const director = firstAccountOf(demo.accounts, 'National_DIR');
  const context = await browser.newContext();
  const page = await context.newPage();

  // The director finds a user who has not activated the account yet.
  await signIn(page, demo.baseURL, director.login);
  assert.equal(new URL(page.url()).pathname, '/', `signing in as ${director.login} should land on /`);
  await page.goto(`${demo.baseURL}/admin`);
  await clickAndWait(page, page.getByRole('link', { name: 'Utilisateurs', exact: true }).first());
  await expectNoAxeViolations(page, 'the users list');

  const row = page.locator('tr', { hasText: 'non activé' }).first();
  assert.equal(await row.count(), 1, 'the users list should show a row whose account state reads "non activé"');
  await clickAndWait(page, row.getByRole('link').first());
  await expectNoAxeViolations(page, 'the user page');

  await clickAndWait(page, page.getByRole('button', { name: /^Générer un code d['’]activation$/ }));
  const code = (await page.locator('[data-testid="activation-code"]').innerText()).trim();
  const login = (await page.locator('[data-testid="user-login"]').innerText()).trim();
  assert.ok(code.length > 0, 'the page should show the new code in [data-testid="activation-code"]');
  assert.ok(login.length > 0, 'the page should show the login in [data-testid="user-login"]');
  await expectNoAxeViolations(page, 'the user page with an activation code');
  await signOut(page);

  // The user activates the account with that code.
  await page.goto(`${demo.baseURL}/auth/activate`);
  await expectNoAxeViolations(page, 'the activation page');
  await page.getByLabel(/^Identifiant/).fill(login);
  await page.getByLabel(/^Code d['’]activation/).fill(code);
  await clickAndWait(page, page.getByRole('button', { name: 'Continuer', exact: true }));
  await expectNoAxeViolations(page, 'the choose-a-password page');

  await page.getByLabel(/^Nouveau mot de passe/).fill(NEW_PASSWORD);
  await page.getByLabel(/^Confirmer le mot de passe/).fill(NEW_PASSWORD);
  await page.getByLabel(/charte/i).check();
  await clickAndWait(page, page.getByRole('button', { name: 'Activer mon compte', exact: true }));

  assert.equal(new URL(page.url()).pathname, '/', `after activating ${login} we should land on /`);
  assert.ok(await page.locator('h1').count() >= 1, 'the home page after activation should have an <h1>');
  await expectNoAxeViolations(page, `the home page of the newly activated ${login}`);
  await context.close();
});
