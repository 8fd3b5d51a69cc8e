// The clinician chart in Chromium. A midwife opens a mother's chart from its link, writes a
// note, records a blood pressure, books an appointment and requests an export. A GP on the
// same care team assigns a PHQ-9, because a midwife's role may not write mental health data.
// The mother's portal then lists the appointment and the PHQ-9. The chart passes axe-core and
// fits a 360 px screen.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { PHONE, waitForHydration } from '../support/shell.js';

test.describe.configure({ mode: 'serial' });

// Opens a new browser context with its own passkey and enrolls from `link`.
async function person(browser, link, landingPath, viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  await enroll(page, link, 'Work device', landingPath);
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

// Invites a staff member from the admin's Users page; returns her link and her user id, which
// the ids of her role checkboxes carry.
async function inviteStaff(admin, name, email, role) {
  const link = admin.getByTestId('issued-link');
  const previous = (await link.textContent()) ?? '';
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Email', { exact: true }).fill(email);
  await admin.getByRole('checkbox', { name: role, exact: true }).first().check();
  await admin.getByRole('button', { name: 'Create invitation' }).click();
  const item = admin.getByTestId('user-item').filter({ hasText: name });
  await expect(item).toBeVisible();
  await expect(link).toContainText('/enroll#');
  await expect(link).not.toHaveText(previous);
  const checkboxId = await item.locator('input[type=checkbox]').first().getAttribute('id');
  return { link: await link.textContent(), userId: checkboxId.slice('user-'.length, 'user-'.length + 36) };
}

// Opens the chart from its address, as the dashboard links to it.
async function openChart(page, patientId) {
  await page.goto(`/clinician/chart?patient=${patientId}&purpose=Postnatal%20visit`);
  await waitForHydration(page);
  await expect(page.getByTestId('chart')).toBeVisible();
}

test('a midwife works in a chart and the mother sees the result', async ({ browser }) => {
  test.setTimeout(180_000);
  const admin = await person(browser, adminLink('NURTURE_CHART_ADMIN_LINK'), '/admin/users');

  // The admin publishes the clinic's care-coordination consent and invites the staff.
  await admin.page.goto('/admin/consents');
  await waitForHydration(admin.page);
  await admin.page.getByLabel('Type').selectOption('care_coordination');
  await admin.page.getByLabel('Title').fill('Care coordination');
  await admin.page.getByLabel('Consent text').fill(
    'I agree that the members of my care team I choose may use the parts of my record I choose.');
  await admin.page.getByRole('button', { name: 'Create template' }).click();
  await expect(admin.page.getByTestId('consent-template')).toContainText('version 1');
  await admin.page.goto('/admin/users');
  await waitForHydration(admin.page);
  const midwifeInvite = await inviteStaff(admin.page, 'Maya Chart', 'maya.chart@example.org', 'Midwife');
  const gpInvite = await inviteStaff(admin.page, 'Gus Chart', 'gus.chart@example.org', 'GP');

  // The midwife invites the mother, which puts her on the mother's care team.
  const midwife = await person(browser, midwifeInvite.link, '/clinician', PHONE);
  await midwife.page.getByLabel('Name', { exact: true }).fill('Nora Chartwell');
  await midwife.page.getByLabel('Email', { exact: true }).fill('nora.chartwell@example.org');
  await midwife.page.getByLabel('Date of birth', { exact: true }).fill('1994-02-11');
  await midwife.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(midwife.page.getByTestId('patient-link')).toContainText('/enroll#');
  const motherLink = await midwife.page.getByTestId('patient-link').textContent();

  await midwife.page.goto('/clinician/emergency');
  await waitForHydration(midwife.page);
  await midwife.page.getByLabel("Patient's full name").fill('Nora Chartwell');
  await midwife.page.getByRole('button', { name: 'Find' }).click();
  await midwife.page.getByRole('button', { name: 'Use this record' }).click();
  const patientId = await midwife.page.getByLabel('Patient record id').inputValue();
  expect(patientId).toMatch(/^[0-9a-f-]{36}$/);

  // The admin adds the GP to the same care team.
  await admin.page.goto('/admin/care-team');
  await waitForHydration(admin.page);
  await admin.page.getByLabel('Patient record id').fill(patientId);
  await admin.page.getByLabel('Provider user id').fill(gpInvite.userId);
  await admin.page.getByLabel('Role on the team').selectOption('primary_care_provider');
  await admin.page.getByRole('button', { name: 'Add to care team' }).click();
  await expect(admin.page.getByRole('list', { name: 'Care team' })).toContainText('Gus Chart');

  // The mother consents to her care team's use of her record.
  const mother = await person(browser, motherLink, '/patient', PHONE);
  await mother.page.getByRole('link', { name: 'My consents' }).click();
  await waitForHydration(mother.page);
  const text = mother.page.getByTestId('consent-text');
  await text.getByText('Review and sign').click();
  for (const category of [/^Maternal health/, /^Mental health \(/, /^Appointments and care team/, /^Contact and identity/]) {
    await text.getByRole('checkbox', { name: category }).check();
  }
  await text.getByRole('checkbox', { name: 'Midwife', exact: true }).check();
  await text.getByRole('checkbox', { name: 'GP', exact: true }).check();
  await text.getByLabel('Purpose').fill('coordinating my postnatal care');
  await text.getByLabel('Your full name').fill('Nora Chartwell');
  await text.getByRole('button', { name: 'Sign with passkey' }).click();
  await expect(mother.page.getByRole('status').first()).toContainText('Consent signed');

  // The midwife opens the chart from its link; the server already rendered the record.
  await openChart(midwife.page, patientId);
  const chart = midwife.page.getByTestId('chart');
  await expect(chart.getByRole('heading', { name: 'Nora Chartwell' })).toBeVisible();
  await expect(midwife.page.getByTestId('chart-screenings')).toContainText('Not available to your role.');
  await expect(midwife.page.getByLabel('Questionnaire')).toHaveCount(0);
  await expectNoAxeViolations(midwife.page);
  await expectNoHorizontalScroll(midwife.page);

  // She writes a note.
  await midwife.page.getByLabel('Note', { exact: true }).fill('Wound healing well; discussed sleep.');
  await midwife.page.getByRole('button', { name: 'Save note' }).click();
  // A saved change loads the chart again from the server, with the form's message.
  await expect(midwife.page.getByTestId('note').first()).toContainText('Wound healing well');
  await expect(midwife.page.getByTestId('chart-notes').getByRole('status')).toContainText('Note saved.');
  await waitForHydration(midwife.page);

  // She records a raised blood pressure; the timeline shows it in words and flags it.
  await midwife.page.getByLabel('Systolic').fill('146');
  await midwife.page.getByLabel('Diastolic').fill('92');
  await midwife.page.getByRole('button', { name: 'Record blood pressure' }).click();
  const vital = midwife.page.getByTestId('vital').first();
  await expect(vital).toContainText('Blood pressure 146/92 mmHg');
  await expect(vital).toContainText('Raised: follow up');
  await expect(midwife.page.getByTestId('task').first()).toContainText('Open');
  await waitForHydration(midwife.page);

  // She books a postnatal visit with herself, a week ahead.
  const start = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().slice(0, 16);
  await midwife.page.getByLabel('With', { exact: true }).selectOption({ label: 'Maya Chart (Midwife)' });
  await midwife.page.getByLabel('For', { exact: true }).selectOption('postnatal_visit');
  await midwife.page.getByLabel('Start (UTC)').fill(start);
  await midwife.page.getByRole('button', { name: 'Book appointment' }).click();
  await expect(midwife.page.getByTestId('appointment').first()).toContainText('Postnatal visit with Maya Chart');
  await waitForHydration(midwife.page);

  // She requests an export to a party that the mother's data-sharing consent does not name,
  // which the consent check rejects.
  await midwife.page.getByLabel('Recipient').fill('Harbour Health Visitors');
  await midwife.page.getByLabel('Purpose of the export').fill('Handover to the health visitor');
  await midwife.page.getByTestId('exports').getByRole('checkbox').first().check();
  await midwife.page.getByRole('button', { name: 'Request export' }).click();
  await expect(midwife.page.getByTestId('exports').getByRole('alert')).toContainText('do not have access');
  await expect(midwife.page.getByTestId('exports')).toContainText('No exports of this record yet.');
  await expectNoAxeViolations(midwife.page);
  await expectNoHorizontalScroll(midwife.page);

  // The GP assigns a PHQ-9 from the same chart.
  const gp = await person(browser, gpInvite.link, '/clinician');
  await openChart(gp.page, patientId);
  await gp.page.getByLabel('Questionnaire').selectOption('phq9');
  await gp.page.getByRole('button', { name: 'Assign' }).click();
  await expect(gp.page.getByTestId('chart-screenings').getByRole('status')).toContainText('Questionnaire assigned');

  // The mother's portal lists the appointment and the questionnaire.
  await mother.page.goto('/patient');
  await waitForHydration(mother.page);
  await expect(mother.page.getByText('Postnatal visit').first()).toBeVisible();
  await expect(mother.page.getByText(/PHQ-9/).first()).toBeVisible();

  await Promise.all([admin, midwife, gp, mother].map(({ context }) => context.close()));
});
