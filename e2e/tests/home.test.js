'use strict';
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const {
  startDemo,
  launchBrowser,
  expectNoAxeViolations,
  signIn,
  signOut,
  firstAccountPerProfile,
} = require('../lib/harness');

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

async function checkChildren(page, login) {
  const heading = page.getByRole('heading', { name: 'Mes enfants' });
  assert.equal(await heading.count(), 1, `${login}: the home page should have one heading "Mes enfants"`);
  const region = heading.locator('xpath=ancestor::*[self::section or @role="region"][1]');
  assert.equal(await region.count(), 1, `${login}: "Mes enfants" should head a <section> or role="region"`);
  const children = await region.locator('li').count();
  assert.ok(children >= 1, `${login}: "Mes enfants" should list at least one child (<li>), found ${children}`);
}

test('every demo profile gets an accessible home page', async (t) => {
  const profiles = new Set(demo.accounts.map((a) => a.profile));
  for (const p of ['National_ELV', 'National_TUT', 'National_ENS', 'National_DIR']) {
    assert.ok(profiles.has(p), `the demo should list a ${p} account (listed: ${[...profiles].join(', ')})`);
  }

  for (const account of firstAccountPerProfile(demo.accounts)) {
    await t.test(`${account.profile} (${account.login})`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const who = `${account.profile} ${account.login}`;

      await signIn(page, demo.baseURL, account.login);
      assert.equal(new URL(page.url()).pathname, '/', `${who}: signing in should land on /`);
      assert.ok(await page.locator('h1').count() >= 1, `${who}: the home page should have an <h1>`);
      assert.equal(await page.getByRole('main').count(), 1, `${who}: the home page should have one <main>`);
      assert.ok(await page.locator('header').count() >= 1, `${who}: the home page should have a <header>`);
      assert.ok(await page.locator('nav').count() >= 1, `${who}: the home page should have a <nav>`);

      const skip = page.getByRole('link', { name: 'Aller au contenu' });
      assert.equal(await skip.count(), 1, `${who}: the page should start with a skip link "Aller au contenu"`);
      const href = await skip.getAttribute('href');
      assert.match(href ?? '', /#contenu$/, `${who}: the skip link should target #contenu, not ${href}`);
      assert.equal(await page.locator('#contenu').count(), 1, `${who}: the skip link target #contenu should exist`);

      if (account === demo.accounts.find((a) => a.profile === 'National_TUT')) {
        await checkChildren(page, who);
      }

      await expectNoAxeViolations(page, `the home page of ${who}`);

      await signOut(page);
      assert.equal(new URL(page.url()).pathname, '/auth/login', `${who}: signing out should lead to /auth/login`);
      await context.close();
    });
  }
});
