'use strict';
// A directeur imports the ONDE extracts of their school from the browser: upload, preview,
// confirmation, progress, report; axe passes on every step.
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startDemo, launchBrowser, expectNoAxeViolations, signIn, clickAndWait, firstAccountOf,
} = require('../lib/harness');

let demo;
let browser;
let ondeDir;

before(async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preau-e2e-dataset-'));
  execFileSync('python3', [
    path.join(__dirname, '..', '..', 'tests', 'datasets', 'gen_dataset.py'),
    '--preset', 'school', '--format', 'onde', '--out', out,
  ]);
  const schools = fs.readdirSync(path.join(out, 'onde')).filter((d) => /^\d{7}[A-Z]$/.test(d));
  ondeDir = path.join(out, 'onde', schools[0]);
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

test('a directeur uploads ONDE files, previews, confirms and sees the report', async () => {
  const directeur = firstAccountOf(demo.accounts, 'National_DIR');
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, demo.baseURL, directeur.login);
  await page.goto(`${demo.baseURL}/admin`);
  await clickAndWait(page, page.locator('main a[href^="/admin/structures/"]').first());
  await clickAndWait(page, page.getByRole('link', { name: 'Importer depuis ONDE' }));
  await expectNoAxeViolations(page, 'the import page');

  const files = ['CSVExtraction-eleves.csv', 'CSVExtraction-responsables.csv', 'CSVExtraction-enseignants.csv']
    .map((f) => path.join(ondeDir, f));
  await page.locator('#files').setInputFiles(files);
  await clickAndWait(page, page.getByRole('button', { name: 'Vérifier (simulation)' }));
  assert.match(await page.locator('h1').innerText(), /Import des comptes/);
  const preview = await page.locator('main').innerText();
  assert.match(preview, /Ce que l’import va faire/, preview);
  assert.match(preview, /Élèves\s+262/, preview);
  await expectNoAxeViolations(page, 'the import preview');

  await clickAndWait(page, page.getByRole('button', { name: 'Importer', exact: true }));
  // htmx polls the progress and reloads the page when the run ends.
  await page.getByText('Ce que l’import a fait').waitFor({ timeout: 60_000 });
  const report = await page.locator('main').innerText();
  assert.match(report, /Import terminé/, report);
  await expectNoAxeViolations(page, 'the import report');

  // The new pupils are in the school's user list.
  await page.goto(`${demo.baseURL}/admin`);
  await clickAndWait(page, page.locator('main a[href^="/admin/structures/"]').first());
  await clickAndWait(page, page.getByRole('link', { name: 'Importer depuis ONDE' }));
  assert.match(await page.locator('main').innerText(), /Import terminé/);
  await context.close();
});
