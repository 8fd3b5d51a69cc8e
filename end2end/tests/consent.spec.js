// Consent in Chromium: an admin publishes a care-coordination consent, a midwife invites a
// patient, and the patient reads it, signs it with her passkey, revokes it and verifies her
// consent history.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { waitForHydration } from '../support/shell.js';

test.describe.configure({ mode: 'serial' });

// Opens a new browser context with its own passkey and enrolls from `link`.
async function person(browser, link, landingPath) {
  const context = await browser.newContext();
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

test('a patient grants and then revokes a consent', async ({ browser }) => {
  test.setTimeout(90_000);
  const admin = await person(browser, adminLink('NURTURE_CONSENT_ADMIN_LINK'), '/admin/users');

  // The admin publishes the clinic's care-coordination consent.
  await admin.page.goto('/admin/consents');
  await waitForHydration(admin.page);
  await admin.page.getByLabel('Type').selectOption('care_coordination');
  await admin.page.getByLabel('Title').fill('Care coordination');
  await admin.page.getByLabel('Consent text').fill(
    'I agree that the members of my care team I choose may use the parts of my record I choose.');
  await admin.page.getByRole('button', { name: 'Create template' }).click();
  await expect(admin.page.getByTestId('consent-template')).toContainText('version 1');

  // The admin invites a midwife, who invites the patient.
  await admin.page.goto('/admin/users');
  await waitForHydration(admin.page);
  await admin.page.getByLabel('Name', { exact: true }).fill('Meg Midwife');
  await admin.page.getByLabel('Email', { exact: true }).fill('meg@example.org');
  await admin.page.getByRole('checkbox', { name: 'Midwife', exact: true }).first().check();
  await admin.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(admin.page.getByTestId('issued-link')).toContainText('/enroll#');
  const midwifeLink = await admin.page.getByTestId('issued-link').textContent();
  const midwife = await person(browser, midwifeLink, '/clinician');
  await midwife.page.getByLabel('Name', { exact: true }).fill('Pia Patient');
  await midwife.page.getByLabel('Email', { exact: true }).fill('pia@example.org');
  await midwife.page.getByLabel('Date of birth', { exact: true }).fill('1996-07-21');
  await midwife.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(midwife.page.getByTestId('patient-link')).toContainText('/enroll#');
  const patientLink = await midwife.page.getByTestId('patient-link').textContent();
  const patient = await person(browser, patientLink, '/patient');

  // The patient reads the consent and signs it with her passkey.
  await patient.page.getByRole('link', { name: 'My consents' }).click();
  await expect(patient.page).toHaveURL(/\/patient\/consents$/);
  await waitForHydration(patient.page);
  const text = patient.page.getByTestId('consent-text');
  await expect(text).toContainText('Care coordination (version 1)');
  await expect(text).toContainText('Not signed.');
  await expectNoAxeViolations(patient.page);
  await text.getByText('Review and sign').click();
  await text.getByRole('checkbox', { name: /Maternal health/ }).check();
  await text.getByRole('checkbox', { name: 'Midwife', exact: true }).check();
  await text.getByLabel('Purpose').fill('coordinating my postnatal care');
  await text.getByLabel('Your full name').fill('Pia Patient');
  await text.getByRole('button', { name: 'Sign with passkey' }).click();
  await expect(patient.page.getByRole('status').first()).toContainText('Consent signed');
  const grant = patient.page.getByTestId('consent-grant');
  await expect(grant).toHaveAttribute('data-status', 'Active');
  await expect(grant).toContainText('Signed by Pia Patient');
  await expect(text).toContainText('You have signed this version.');

  // The patient revokes it; it stops applying at once.
  await grant.getByLabel('Reason for revoking').fill('I have moved to another clinic');
  await grant.getByRole('button', { name: 'Revoke' }).click();
  await expect(grant).toHaveAttribute('data-status', 'Revoked');
  await expect(grant).toContainText('I have moved to another clinic');
  await expect(text).toContainText('Not signed.');

  // Her consent history contains the grant and the revocation, each linked to the one before.
  await patient.page.getByRole('button', { name: 'Verify my consent history' }).click();
  await expect(patient.page.getByTestId('history-result')).toContainText('intact: 2 entries');

  // The admin's page shows counts only, never the patient's name.
  await admin.page.goto('/admin/consents');
  await waitForHydration(admin.page);
  const coverage = admin.page.getByRole('table');
  await expect(coverage.getByRole('row', { name: /Care coordination/ })).toContainText('1');
  await expect(admin.page.getByText('Pia Patient')).toHaveCount(0);
  await expectNoAxeViolations(admin.page);

  await Promise.all([admin.context.close(), midwife.context.close(), patient.context.close()]);
});
