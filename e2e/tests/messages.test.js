'use strict';
// A parent writes to their child's teacher (found by the child's first name), the teacher
// answers, the parent sees the answer; axe passes on every messaging page.
const { test, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const {
  startDemo, launchBrowser, expectNoAxeViolations, signIn, clickAndWait,
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

test('a parent writes to the teacher, the teacher answers, the parent reads the answer', async () => {
  // The demo lists a parent of one child whose teacher is listed too.
  const parent = demo.accounts.find((a) => a.profile === 'National_TUT' && /^Parent d(e |')\S+ \([^)]+\)$/.test(a.about));
  assert.ok(parent, JSON.stringify(demo.accounts));
  const [, , child, className] = /^Parent d(e |')(\S+) \(([^)]+)\)$/.exec(parent.about);
  const teacher = demo.accounts.find((a) => a.profile === 'National_ENS' && a.about.includes(`, ${className},`));
  assert.ok(teacher, `no listed teacher of ${className}`);

  const family = await browser.newContext();
  const page = await family.newPage();
  await signIn(page, demo.baseURL, parent.login);
  await clickAndWait(page, page.getByRole('navigation').getByRole('link', { name: 'Messagerie' }));
  await expectNoAxeViolations(page, 'the inbox');
  await clickAndWait(page, page.getByRole('link', { name: 'Écrire un message' }));
  await page.getByLabel('Chercher une personne ou un groupe').fill(child);
  // htmx brings the matching people as the parent types.
  await page.getByText(`enseignant·e de ${child}`).first().waitFor();
  await expectNoAxeViolations(page, 'the compose page with results');
  await page.locator('#results li', { hasText: `enseignant·e de ${child}` }).first().getByRole('checkbox').check();
  await page.getByLabel('Objet').fill('Sortie à la ferme');
  await page.getByLabel('Message', { exact: true }).fill(`Bonjour, ${child} pourra-t-il venir avec son doudou ?`);
  await clickAndWait(page, page.getByRole('button', { name: 'Envoyer', exact: true }));
  assert.match(await page.locator('h1').innerText(), /Sortie à la ferme/);
  await expectNoAxeViolations(page, 'the sent message');

  const school = await browser.newContext();
  const tpage = await school.newPage();
  await signIn(tpage, demo.baseURL, teacher.login);
  await tpage.goto(`${demo.baseURL}/messages`);
  assert.match(await tpage.locator('main').innerText(), /1 non lu/);
  await clickAndWait(tpage, tpage.getByRole('link', { name: /Sortie à la ferme/ }));
  assert.match(await tpage.locator('main').innerText(), /doudou/);
  await expectNoAxeViolations(tpage, 'the received message');
  await tpage.locator('#reply-body').fill('Bien sûr, à vendredi !');
  await clickAndWait(tpage, tpage.getByRole('button', { name: 'Répondre à l’expéditeur' }));

  await page.goto(`${demo.baseURL}/messages`);
  assert.match(await page.locator('main').innerText(), /Re : Sortie à la ferme/);
  await clickAndWait(page, page.getByRole('link', { name: /Re : Sortie à la ferme/ }));
  assert.match(await page.locator('main').innerText(), /Bien sûr, à vendredi/);
  await expectNoAxeViolations(page, 'the thread with the answer');
  await family.close();
  await school.close();
});

test('a chat line from the teacher appears live on the parent’s open conversation', async () => {
  const parent = demo.accounts.find((a) => a.profile === 'National_TUT' && /^Parent d(e |')\S+ \([^)]+\)$/.test(a.about));
  const [, , child, className] = /^Parent d(e |')(\S+) \(([^)]+)\)$/.exec(parent.about);
  const teacher = demo.accounts.find((a) => a.profile === 'National_ENS' && a.about.includes(`, ${className},`));

  const family = await browser.newContext();
  const page = await family.newPage();
  await signIn(page, demo.baseURL, parent.login);
  await clickAndWait(page, page.getByRole('navigation').getByRole('link', { name: 'Discussions' }));
  await page.getByLabel('Chercher une personne ou un groupe').fill(child);
  await clickAndWait(page, page.getByRole('button', { name: 'Chercher' }));
  await page.locator('li', { hasText: `enseignant·e de ${child}` }).first().getByRole('checkbox').check();
  await page.getByLabel('Nom de la discussion (facultatif)').fill('Doudou');
  await expectNoAxeViolations(page, 'the discussions page');
  await clickAndWait(page, page.getByRole('button', { name: 'Commencer la discussion' }));
  assert.match(await page.locator('h1').innerText(), /Doudou/);
  await expectNoAxeViolations(page, 'a conversation');

  const school = await browser.newContext();
  const tpage = await school.newPage();
  await signIn(tpage, demo.baseURL, teacher.login);
  await tpage.goto(`${demo.baseURL}/discussions`);
  await clickAndWait(tpage, tpage.getByRole('link', { name: 'Doudou' }));
  await tpage.getByLabel('Votre message').fill('Le doudou est resté en classe.');
  await clickAndWait(tpage, tpage.getByRole('button', { name: 'Envoyer', exact: true }));

  // No reload on the parent's side: the line comes over server-sent events.
  await page.getByText('Le doudou est resté en classe.').waitFor({ timeout: 15_000 });
  await family.close();
  await school.close();
});
