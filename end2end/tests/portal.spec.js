// The patient portal in Chromium on a 360 px phone screen: a mother adds her baby, logs a
// feed and a growth measurement, answers a high-scoring EPDS (crisis resources appear as soon
// as item 10 is answered), and reports her blood pressure. Every page passes axe-core and fits
// the screen without horizontal scrolling.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { PHONE, waitForHydration } from '../support/shell.js';

test.describe.configure({ mode: 'serial' });

let admin;
let midwife;

// Opens a new browser context with its own passkey and enrolls from `link`.
async function person(browser, link, landingPath, viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  await enroll(page, link, 'Own device', landingPath);
  return { context, page };
}

async function expectNoAxeViolations(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(results.violations.map((violation) => violation.id)).toEqual([]);
}

async function expectNoHorizontalScroll(page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
}

// Checks a portal page on the phone screen: accessible and as wide as the screen.
async function checkPage(page) {
  await expectNoAxeViolations(page);
  await expectNoHorizontalScroll(page);
}

async function openPortalPage(page, path) {
  await page.goto(path);
  await waitForHydration(page);
}

// The midwife invites a mother with her own email, who enrolls on a phone-sized screen.
async function inviteMother(browser, name, email) {
  await midwife.page.goto('/clinician');
  await waitForHydration(midwife.page);
  const link = midwife.page.getByTestId('patient-link');
  const previous = (await link.textContent()) ?? '';
  await midwife.page.getByLabel('Name', { exact: true }).fill(name);
  await midwife.page.getByLabel('Email', { exact: true }).fill(email);
  await midwife.page.getByLabel('Date of birth', { exact: true }).fill('1995-04-12');
  await midwife.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(link).toContainText('/enroll#');
  await expect(link).not.toHaveText(previous);
  return person(browser, await link.textContent(), '/patient', PHONE);
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(90_000);
  admin = await person(browser, adminLink('NURTURE_PORTAL_ADMIN_LINK'), '/admin/users');
  await admin.page.getByLabel('Name', { exact: true }).fill('Maya Midwife');
  await admin.page.getByLabel('Email', { exact: true }).fill('maya.portal@example.org');
  await admin.page.getByRole('checkbox', { name: 'Midwife', exact: true }).first().check();
  await admin.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(admin.page.getByTestId('issued-link')).toContainText('/enroll#');
  midwife = await person(browser, await admin.page.getByTestId('issued-link').textContent(), '/clinician');
});

test.afterAll(async () => {
  await Promise.all([admin, midwife].filter(Boolean).map(({ context }) => context.close()));
});

test('a mother adds her baby, logs a feed and a weight', async ({ browser }) => {
  test.setTimeout(120_000);
  const mother = await inviteMother(browser, 'Fay Feeder', 'fay.feeder@example.org');
  const { page } = mother;
  await waitForHydration(page);
  await expect(page.getByTestId('awaiting')).toContainText("Add your baby's details");
  await expect(page.getByRole('heading', { name: 'Your care team' })).toBeVisible();
  await expect(page.getByText('Maya Midwife')).toBeVisible();
  await checkPage(page);

  // Her record has no baby yet: the growth page asks for one first.
  await openPortalPage(page, '/patient/growth');
  await page.getByLabel("Baby's name").fill('Pip Feeder');
  const born = new Date(Date.now() - 21 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel('Date of birth').fill(born);
  await page.getByLabel('Birth weight in grams').fill('3400');
  await page.getByRole('button', { name: 'Add baby' }).click();
  await expect(page.getByRole('heading', { name: 'Add a measurement' })).toBeVisible();
  await page.getByLabel('Value').fill('3.9');
  await page.getByRole('button', { name: 'Save measurement' }).click();
  await expect(page.getByRole('status')).toContainText(/WHO z-score -?\d+\.\d\d, percentile/);
  await expect(page.getByRole('status')).not.toContainText('-0.00');
  await expect(page.getByTestId('latest-growth')).toContainText('3.9 kg');
  await expect(page.locator('figure.growth-chart svg').first()).toBeVisible();
  await checkPage(page);

  // A breastfeed in three taps, then save with the button at the bottom of the screen.
  await openPortalPage(page, '/patient/feeding');
  await page.getByRole('radio', { name: 'Breastfeed' }).check();
  await page.getByRole('radio', { name: 'Left' }).check();
  await page.getByRole('button', { name: '15 min' }).click();
  await expect(page.getByLabel('Minutes')).toHaveValue('15');
  const save = page.getByRole('button', { name: 'Save', exact: true });
  const box = await save.boundingBox();
  expect(box.y + box.height).toBeLessThanOrEqual(PHONE.height);
  await save.click();
  await expect(page.getByRole('status')).toContainText('Saved: Breastfeed, left, 15 min.');
  await expect(page.getByRole('list', { name: 'Recent feeds and nappies' }))
    .toContainText('Breastfeed, left, 15 min');

  await page.getByRole('radio', { name: 'Nappy' }).check();
  await page.getByRole('checkbox', { name: 'Wet' }).check();
  await page.getByRole('checkbox', { name: 'Dirty' }).check();
  await save.click();
  await expect(page.getByRole('list', { name: 'Recent feeds and nappies' }))
    .toContainText('Nappy: wet and dirty');
  await checkPage(page);

  await openPortalPage(page, '/patient/learn');
  await expect(page.locator('[data-current="true"]')).toContainText('Settling in');
  await checkPage(page);
  await mother.context.close();
});

test('a mother answers an EPDS with a high score', async ({ browser }) => {
  test.setTimeout(120_000);
  const mother = await inviteMother(browser, 'Hana Checkin', 'hana.checkin@example.org');
  const { page } = mother;
  await expect(page.getByTestId('awaiting')).toContainText('time for your mood check-in');

  await openPortalPage(page, '/patient/check-in');
  await expect(page.getByRole('heading', { name: 'Edinburgh Postnatal Depression Scale' }))
    .toBeVisible();
  // An unfinished form is not sent.
  await page.getByRole('button', { name: 'Submit my answers' }).click();
  await expect(page.getByRole('alert')).toContainText('Please answer every question');
  await checkPage(page);

  // The most severe answer of items 1 to 9: the last printed answer of items 1, 2 and 4, the
  // first of the reverse-scored items.
  const questions = page.locator('fieldset.question');
  for (let item = 0; item < 9; item += 1) {
    const last = [0, 1, 3].includes(item);
    const radios = questions.nth(item).getByRole('radio');
    await (last ? radios.last() : radios.first()).check();
  }
  await expect(page.getByTestId('crisis-resources')).toHaveCount(0);
  await questions.nth(9).getByRole('radio', { name: 'Sometimes' }).check();
  // Crisis resources appear at once, before the form is submitted.
  await expect(page.getByTestId('crisis-resources')).toBeVisible();
  await expect(page.getByTestId('crisis-resources')).toContainText('emergency number');
  await checkPage(page);
  await questions.nth(9).getByRole('radio', { name: 'Never' }).check();
  await expect(page.getByTestId('crisis-resources')).toHaveCount(0);
  await questions.nth(9).getByRole('radio', { name: 'Sometimes' }).check();

  await page.getByRole('button', { name: 'Submit my answers' }).click();
  const result = page.getByTestId('check-in-result');
  await expect(result).toContainText('Thank you for checking in');
  // The referral task and the urgent alert fired, so the result says that her team knows.
  await expect(result).toContainText('Your care team has been told');
  await expect(result).toContainText('Your EPDS total: 29 out of 30.');
  await expect(page.getByTestId('crisis-resources')).toBeVisible();
  await checkPage(page);

  await openPortalPage(page, '/patient');
  await expect(page.getByTestId('awaiting')).not.toContainText('mood check-in');

  await openPortalPage(page, '/patient/vitals');
  await page.getByLabel('Top number (systolic)').fill('121');
  await page.getByLabel('Bottom number (diastolic)').fill('79');
  await page.getByRole('button', { name: 'Save blood pressure' }).click();
  await expect(page.getByRole('status')).toContainText('Saved: Blood pressure 121/79 mmHg.');
  await page.locator('#temperature').fill('45.5');
  await page.getByRole('button', { name: 'Save temperature' }).click();
  await expect(page.getByRole('alert')).toContainText('Check the value');
  await expect(page.getByRole('list', { name: 'Recent readings' }))
    .toContainText('Blood pressure 121/79 mmHg');
  await checkPage(page);
  await mother.context.close();
});
