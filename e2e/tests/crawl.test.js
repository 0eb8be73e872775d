'use strict';
// Crawl the app as each demo profile, like an independent accessibility /
// page-weight / access audit would: every reachable page must be 200, French,
// well-structured, axe-clean, light (gzip ≤ 50 KB) and readable without JS.
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('node:zlib');
const {
  startDemo,
  launchBrowser,
  expectNoAxeViolations,
  signIn,
  firstAccountPerProfile,
} = require('../lib/harness');

const MAX_PAGES = 40; // per profile, not counting ?enfant= pages
const MAX_CHILD_PAGES = 3; // distinct ?enfant= pages per profile
const GZIP_BUDGET = 50 * 1024; // bytes
const ANONYMOUS_PAGES = ['/auth/login', '/auth/activate', '/auth/forgot', '/charte', '/donnees-personnelles', '/accessibilite'];

let demo;
let browser;
const adminLinksSeenByDirector = []; // filled by the National_DIR crawl, used by the access test

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

const h1Text = async (page) => (await page.locator('h1').allInnerTexts()).map((s) => s.trim()).join(' | ');

/** Same-origin <a href> targets of the page, without fragments or skipped links. */
async function linksOf(page) {
  const links = await page.$$eval('a[href]', (as) => as.map((a) => ({ href: a.href, download: a.hasAttribute('download') })));
  const out = [];
  for (const { href, download } of links) {
    const url = new URL(href);
    url.hash = '';
    if (download || url.origin !== demo.baseURL) continue;
    if (url.pathname === '/auth/logout' || url.pathname.startsWith('/static/')) continue;
    out.push(url.href);
  }
  return out;
}

/**
 * Visit `url` in `page` and run every page check; returns the problems found
 * (strings) and, when the page loaded, its links. `noJs` is a page of a
 * context with JavaScript disabled and the same cookies.
 */
async function checkPage(page, noJs, url, who) {
  const problems = [];
  const fail = (what) => problems.push(`${who} ${url}: ${what}`);
  let res;
  try {
    res = await page.goto(url);
  } catch (err) {
    fail(`navigation failed: ${err.message.split('\n')[0]}`);
    return { problems, links: [] };
  }
  if (res?.status() !== 200) fail(`HTTP status ${res?.status()}, expected 200`);
  const lang = await page.locator('html').getAttribute('lang');
  if (lang !== 'fr') fail(`<html lang> is ${JSON.stringify(lang)}, expected "fr"`);
  const h1s = await page.locator('h1').count();
  if (h1s !== 1) fail(`${h1s} <h1> elements, expected exactly 1`);
  const mains = await page.locator('main').count();
  if (mains !== 1) fail(`${mains} <main> elements, expected exactly 1`);
  if ((await page.title()).trim() === '') fail('empty <title>');
  try {
    await expectNoAxeViolations(page, `${who} ${url}`);
  } catch (err) {
    fail(err.message);
  }
  const links = await linksOf(page);
  const heading = await h1Text(page);

  const raw = await page.request.get(url, { headers: { 'accept-encoding': 'gzip' } });
  const gzipped = zlib.gzipSync(Buffer.from(await raw.text())).length;
  if (gzipped > GZIP_BUDGET) fail(`HTML is ${(gzipped / 1024).toFixed(1)} KB gzipped, budget ${GZIP_BUDGET / 1024} KB`);

  try {
    await noJs.goto(url);
    const noJsHeading = await h1Text(noJs);
    if (noJsHeading !== heading) fail(`without JavaScript the <h1> is "${noJsHeading}", with it "${heading}"`);
  } catch (err) {
    fail(`without JavaScript, navigation failed: ${err.message.split('\n')[0]}`);
  }
  return { problems, links };
}

/** Breadth-first crawl from `/`; returns { visited: [url], problems: [string], seen: Set<url> }. */
async function crawl(page, noJs, who) {
  const start = new URL('/', demo.baseURL).href;
  const queue = [start];
  const seen = new Set(queue);
  const visited = [];
  const problems = [];
  let pages = 0;
  let childPages = 0;
  while (queue.length > 0) {
    const url = queue.shift();
    const isChildPage = new URL(url).searchParams.has('enfant');
    if (isChildPage ? childPages >= MAX_CHILD_PAGES : pages >= MAX_PAGES) continue;
    if (isChildPage) childPages++;
    else pages++;
    const result = await checkPage(page, noJs, url, who);
    visited.push(url);
    problems.push(...result.problems);
    for (const link of result.links) {
      if (!seen.has(link)) queue.push(link);
      seen.add(link);
    }
  }
  return { visited, problems, seen };
}

/** A signed-in context and a JavaScript-less context sharing its cookies. */
async function signedInPages(login) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, demo.baseURL, login);
  assert.equal(new URL(page.url()).pathname, '/', `signing in as ${login} should land on /`);
  const noJsContext = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
  const noJs = await noJsContext.newPage();
  const close = () => noJsContext.close().then(() => context.close());
  return { page, noJs, close };
}

test('crawl every page reachable by each demo profile', async (t) => {
  for (const account of firstAccountPerProfile(demo.accounts)) {
    await t.test(`${account.profile} (${account.login})`, async () => {
      const who = `[${account.profile} ${account.login}]`;
      const { page, noJs, close } = await signedInPages(account.login);
      const { visited, problems, seen } = await crawl(page, noJs, who);
      await close();
      console.log(`${who} checked ${visited.length} page(s)`);
      if (process.env.PREAU_E2E_VERBOSE === '1') console.log(visited.map((u) => `  ${new URL(u).pathname}${new URL(u).search}`).join('\n'));
      if (account.profile === 'National_DIR') {
        adminLinksSeenByDirector.push(...[...seen].filter((u) => new URL(u).pathname.startsWith('/admin/structures/')));
      }
      assert.ok(visited.length >= 1, `${who}: nothing was crawled`);
      assert.equal(problems.length, 0, `${problems.length} problem(s) while crawling as ${who}:\n${problems.join('\n')}`);
    });
  }
});

test('a parent cannot open another family’s child', async () => {
  const parents = demo.accounts.filter((a) => a.profile === 'National_TUT');
  assert.ok(parents.length >= 2, `the demo should list two National_TUT accounts, found ${parents.length}`);
  const childrenOf = async (page) =>
    page.$$eval('a[href*="enfant="]', (as) => as.map((a) => ({ id: new URL(a.href).searchParams.get('enfant'), name: a.textContent.trim() })));

  const first = await signedInPages(parents[0].login);
  const theirs = await childrenOf(first.page);
  await first.close();
  assert.ok(theirs.length >= 1, `${parents[0].login}'s home page should link to at least one ?enfant= page`);

  const second = await signedInPages(parents[1].login);
  const own = new Set((await childrenOf(second.page)).map((c) => c.id));
  const foreign = theirs.filter((c) => !own.has(c.id));
  assert.ok(foreign.length >= 1, `${parents[0].login} and ${parents[1].login} share all their children: nothing to check`);
  const problems = [];
  for (const child of foreign) {
    const url = `${demo.baseURL}/?enfant=${child.id}`;
    const res = await second.page.goto(url);
    const where = `[National_TUT ${parents[1].login}] ${url} (${child.name}, child of ${parents[0].login})`;
    if (res.status() !== 404) problems.push(`${where}: HTTP status ${res.status()}, expected 404`);
    const html = await second.page.content();
    const text = await second.page.locator('body').innerText();
    if (html.includes(child.name) || text.includes(child.name)) problems.push(`${where}: the page shows the child's name`);
  }
  await second.close();
  assert.equal(problems.length, 0, `cross-family access:\n${problems.join('\n')}`);
});

test('pupils and parents cannot reach the administration', async () => {
  const adminUrl = adminLinksSeenByDirector[0];
  assert.ok(adminUrl, 'the National_DIR crawl should have found a /admin/structures/... link');
  const problems = [];
  for (const profile of ['National_TUT', 'National_ELV']) {
    const account = demo.accounts.find((a) => a.profile === profile);
    assert.ok(account, `the demo should list a ${profile} account`);
    const { page, close } = await signedInPages(account.login);
    const who = `[${profile} ${account.login}]`;
    const admin = await page.request.get(`${demo.baseURL}/admin`, { maxRedirects: 0 });
    if (admin.status() !== 403) problems.push(`${who} ${demo.baseURL}/admin: HTTP status ${admin.status()}, expected 403`);
    const deep = await page.request.get(adminUrl, { maxRedirects: 0 });
    if (![403, 404].includes(deep.status())) problems.push(`${who} ${adminUrl}: HTTP status ${deep.status()}, expected 403 or 404`);
    await close();
  }
  assert.equal(problems.length, 0, `administration access:\n${problems.join('\n')}`);
});

test('the anonymous pages pass the page checks', async () => {
  const context = await browser.newContext();
  const noJsContext = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const noJs = await noJsContext.newPage();
  const problems = [];
  for (const path of ANONYMOUS_PAGES) {
    problems.push(...(await checkPage(page, noJs, `${demo.baseURL}${path}`, '[anonymous]')).problems);
  }
  await noJsContext.close();
  await context.close();
  assert.equal(problems.length, 0, `${problems.length} problem(s) on the anonymous pages:\n${problems.join('\n')}`);
});
