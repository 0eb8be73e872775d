'use strict';
// Cahier de liaison and absences in the browser: a teacher posts a mot asking for a
// signature, a parent signs it, the teacher sees the count change; an absence marked by the
// teacher appears on the directeur's page of the day. axe passes on every page visited.
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

/** A listed parent of one child, that child's class, and the class's listed teacher. */
function familyAndTeacher() {
  const parent = demo.accounts.find((a) => a.profile === 'National_TUT' && /^Parent d(e |')\S+ \([^)]+\)$/.test(a.about));
  assert.ok(parent, JSON.stringify(demo.accounts));
  const [, , child, className] = /^Parent d(e |')(\S+) \(([^)]+)\)$/.exec(parent.about);
  const teacher = demo.accounts.find((a) => a.profile === 'National_ENS' && a.about.includes(`, ${className},`));
  assert.ok(teacher, `no listed teacher of ${className}`);
  const school = teacher.about.split(', ').slice(2).join(', ');
  const directeur = demo.accounts.find((a) => a.profile === 'National_DIR' && a.about.endsWith(school));
  assert.ok(directeur, `no listed directeur of ${school}`);
  return { parent, child, className, teacher, directeur, school };
}

test('a teacher asks for a signature, a parent signs, the teacher sees the count change', async () => {
  const { parent, child, className, teacher } = familyAndTeacher();
  const school = await browser.newContext();
  const tpage = await school.newPage();
  await signIn(tpage, demo.baseURL, teacher.login);
  await clickAndWait(tpage, tpage.getByRole('navigation').getByRole('link', { name: 'Cahier de liaison' }));
  await expectNoAxeViolations(tpage, 'the teacher’s liaison list');
  await clickAndWait(tpage, tpage.getByRole('link', { name: 'Écrire un mot' }));
  await expectNoAxeViolations(tpage, 'the new mot form');
  await tpage.getByLabel(className, { exact: true }).check();
  await tpage.getByLabel('Titre').fill('Sortie au zoo jeudi');
  await tpage.getByLabel('Texte du mot').fill('Merci de signer pour autoriser la sortie.');
  await tpage.getByLabel('Signature demandée aux familles').check();
  await tpage.getByLabel('Les familles peuvent répondre').check();
  await clickAndWait(tpage, tpage.getByRole('button', { name: 'Publier le mot' }));
  assert.match(await tpage.locator('h1').innerText(), /Sortie au zoo jeudi/);
  const before = await tpage.locator('main').innerText();
  const [, seen, total] = /Vu pour (\d+) élève\(s\) sur (\d+)/.exec(before);
  assert.equal(seen, '0');
  assert.ok(Number(total) > 1, before);
  await expectNoAxeViolations(tpage, 'the tracking of a mot');
  const motURL = tpage.url().split('?')[0];

  const family = await browser.newContext();
  const page = await family.newPage();
  await signIn(page, demo.baseURL, parent.login);
  await clickAndWait(page, page.getByRole('navigation').getByRole('link', { name: 'Cahier de liaison' }));
  assert.match(await page.locator('main').innerText(), /Sortie au zoo jeudi/);
  await expectNoAxeViolations(page, 'the family’s liaison list');
  await clickAndWait(page, page.getByRole('link', { name: 'Sortie au zoo jeudi' }));
  await expectNoAxeViolations(page, 'a mot as the family sees it');
  await clickAndWait(page, page.getByRole('button', { name: `Je signe pour ${child}` }));
  assert.match(await page.locator('main').innerText(), new RegExp(`Vu pour ${child} le`));
  await page.getByLabel('Votre réponse').fill('Avec plaisir, il aura sa casquette.');
  await clickAndWait(page, page.getByRole('button', { name: 'Envoyer ma réponse' }));
  assert.match(await page.locator('main').innerText(), /casquette/);

  await tpage.goto(motURL);
  assert.match(await tpage.locator('main').innerText(), new RegExp(`Vu pour 1 élève\\(s\\) sur ${total}`));
  assert.match(await tpage.locator('main').innerText(), /casquette/);
  await expectNoAxeViolations(tpage, 'the tracking after a signature and a reply');
  await clickAndWait(tpage, tpage.getByRole('button', { name: 'Relancer les familles qui n’ont pas vu le mot' }));
  assert.match(await tpage.locator('main').innerText(), /ont été relancées/);

  await page.goto(`${demo.baseURL}/compte/notifications`);
  await expectNoAxeViolations(page, 'the notification preferences');
  await page.getByLabel('Un courriel à chaque nouveauté').check();
  await clickAndWait(page, page.getByRole('button', { name: 'Enregistrer' }));
  assert.match(await page.locator('main').innerText(), /Vos choix sont enregistrés/);
  await family.close();
  await school.close();
});

test('an absence marked by the teacher appears on the directeur’s page of the day', async () => {
  const { teacher, directeur, className, school } = familyAndTeacher();
  const context = await browser.newContext();
  const tpage = await context.newPage();
  await signIn(tpage, demo.baseURL, teacher.login);
  await clickAndWait(tpage, tpage.getByRole('navigation').getByRole('link', { name: 'Absences' }));
  await expectNoAxeViolations(tpage, 'the teacher’s absences page');
  await clickAndWait(tpage, tpage.getByRole('link', { name: 'Appel du matin' }).first());
  await expectNoAxeViolations(tpage, 'the register');
  const firstPupil = (await tpage.locator('table.register tbody th').first().innerText()).trim();
  await tpage.getByLabel(`Absent : ${firstPupil}`, { exact: true }).check();
  await clickAndWait(tpage, tpage.getByRole('button', { name: 'Enregistrer l’appel' }));
  assert.match(await tpage.locator('main').innerText(), /Appel enregistré : 1 absence/);

  const dcontext = await browser.newContext();
  const dpage = await dcontext.newPage();
  await signIn(dpage, demo.baseURL, directeur.login);
  await clickAndWait(dpage, dpage.getByRole('navigation').getByRole('link', { name: 'Absences' }));
  await clickAndWait(dpage, dpage.getByRole('link', { name: 'Voir les absences du jour de l’école' }).first());
  const day = await dpage.locator('main').innerText();
  assert.match(day, new RegExp(firstPupil));
  assert.match(day, new RegExp(className));
  await expectNoAxeViolations(dpage, 'the directeur’s day');
  // The page refreshes itself: a second absence shows without reloading.
  const second = (await tpage.locator('table.register tbody th').nth(1).innerText()).trim();
  await tpage.getByLabel(`En retard : ${second}`, { exact: true }).check();
  await clickAndWait(tpage, tpage.getByRole('button', { name: 'Enregistrer l’appel' }));
  await dpage.waitForFunction((name) => document.querySelector('#jour').innerText.includes(name), second, { timeout: 45000 });
  await clickAndWait(dpage, dpage.getByRole('link', { name: className }).first());
  assert.match(await dpage.locator('main').innerText(), new RegExp(firstPupil));
  await expectNoAxeViolations(dpage, 'the monthly summary');
  assert.ok(school);
  await context.close();
  await dcontext.close();
});
