'use strict';
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startDemo, launchBrowser, expectNoAxeViolations, signIn } = require('../lib/harness');

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

test('the login page has a heading and passes axe', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.baseURL}/auth/login`);
  assert.ok(await page.locator('h1').count() >= 1, 'the login page should have an <h1>');
  await expectNoAxeViolations(page, 'the login page');
  await context.close();
});

test('a wrong password shows an alert and stays on the login page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, demo.baseURL, demo.accounts[0].login, 'not-the-password');
  const path = new URL(page.url()).pathname;
  assert.equal(path, '/auth/login', 'after a wrong password we should still be on /auth/login');
  const alert = page.locator('[role="alert"]');
  assert.ok(await alert.count() >= 1, 'a wrong password should show an element with role="alert"');
  const text = (await alert.allInnerTexts()).join(' ');
  assert.match(text, /incorrect/i, `the alert should say the credentials are incorrect, got: ${text}`);
  await expectNoAxeViolations(page, 'the login page with an error');
  await context.close();
});

test('signing in works with JavaScript disabled', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, demo.baseURL, demo.accounts[0].login);
  const path = new URL(page.url()).pathname;
  assert.equal(path, '/', `without JavaScript, signing in as ${demo.accounts[0].login} should land on /`);
  await context.close();
});
