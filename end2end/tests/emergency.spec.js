// Break-glass in Chromium: a GP outside a patient's care team finds her, gets critical
// emergency access at once, reads her chart, and a compliance officer reviews the grant.
import { test, expect } from '@playwright/test';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { waitForHydration } from '../support/shell.js';

test.describe.configure({ mode: 'serial' });

// Invites a staff member from the admin's Users page and returns her enrollment link.
async function inviteStaff(admin, name, email, role) {
  const link = admin.getByTestId('issued-link');
  const previous = (await link.textContent()) ?? '';
  await admin.getByLabel('Name', { exact: true }).fill(name);
  await admin.getByLabel('Email', { exact: true }).fill(email);
  await admin.getByRole('checkbox', { name: role, exact: true }).first().check();
  await admin.getByRole('button', { name: 'Create invitation' }).click();
  await expect(admin.getByTestId('user-item').filter({ hasText: name })).toBeVisible();
  await expect(link).toContainText('/enroll#');
  await expect(link).not.toHaveText(previous);
  return link.textContent();
}

// Opens a new browser context with its own passkey and enrolls from `link`.
async function person(browser, link, landingPath) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  await enroll(page, link, 'Work device', landingPath);
  return { context, page };
}

test('a clinician uses break-glass and a compliance officer reviews it', async ({ browser }) => {
  test.setTimeout(90_000);
  const admin = await person(browser, adminLink('NURTURE_EMERGENCY_ADMIN_LINK'), '/admin/users');
  const midwifeLink = await inviteStaff(admin.page, 'Mo Midwife', 'mo@example.org', 'Midwife');
  const gpLink = await inviteStaff(admin.page, 'Gia Doctor', 'gia@example.org', 'GP');
  const complianceLink = await inviteStaff(
    admin.page, 'Cora Compliance', 'cora@example.org', 'Compliance officer');

  // The midwife invites a patient, which puts the patient's record in her care.
  const midwife = await person(browser, midwifeLink, '/clinician');
  await midwife.page.getByLabel('Name', { exact: true }).fill('Pia Quill');
  await midwife.page.getByLabel('Email', { exact: true }).fill('pia.quill@example.org');
  await midwife.page.getByLabel('Date of birth', { exact: true }).fill('1994-08-21');
  await midwife.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(midwife.page.getByTestId('patient-link')).toContainText('/enroll#');

  // The GP is not on the patient's care team, so she finds her and breaks the glass.
  const gp = await person(browser, gpLink, '/clinician');
  await gp.page.goto('/clinician/emergency');
  await waitForHydration(gp.page);
  await gp.page.getByLabel("Patient's full name").fill('Pia Quill');
  await gp.page.getByRole('button', { name: 'Find' }).click();
  await gp.page.getByRole('button', { name: 'Use this record' }).click();
  const patientId = await gp.page.getByLabel('Patient record id').inputValue();
  expect(patientId).toMatch(/^[0-9a-f-]{36}$/);

  await gp.page.goto('/clinician/chart');
  await waitForHydration(gp.page);
  await gp.page.getByLabel('Patient record id').fill(patientId);
  await gp.page.getByLabel('Purpose of access').fill('Collapsed in clinic waiting room');
  await gp.page.getByRole('button', { name: 'Open chart' }).click();
  await expect(gp.page.getByRole('alert')).toContainText('do not have access');

  await gp.page.goto('/clinician/emergency');
  await waitForHydration(gp.page);
  await gp.page.getByLabel('Patient record id').fill(patientId);
  await gp.page.getByLabel('Emergency level').selectOption('critical');
  await gp.page.getByLabel('Justification').fill('Collapsed in the waiting room; no chart at hand');
  await gp.page.getByRole('button', { name: 'Request emergency access' }).click();
  await expect(gp.page.getByRole('status')).toContainText('Emergency access granted until');

  await gp.page.goto('/clinician/chart');
  await waitForHydration(gp.page);
  await gp.page.getByLabel('Patient record id').fill(patientId);
  await gp.page.getByLabel('Purpose of access').fill('Collapsed in clinic waiting room');
  await gp.page.getByRole('button', { name: 'Open chart' }).click();
  // Break-glass opens clinical data, not contact details, so the chart shows the record's id.
  const chart = gp.page.getByTestId('chart');
  await expect(chart).toContainText(`Record ${patientId}`);
  await expect(chart.getByRole('list', { name: 'Maternal entries' })).toBeAttached();

  // Compliance sees the notification and reviews the grant.
  const compliance = await person(browser, complianceLink, '/compliance');
  await compliance.page.goto('/compliance/emergency');
  await waitForHydration(compliance.page);
  await expect(compliance.page.getByRole('list', { name: 'Notifications' }))
    .toContainText('Emergency access granted to Gia Doctor');
  const grant = compliance.page.getByTestId('unreviewed-request');
  await expect(grant).toContainText('Collapsed in the waiting room');
  await grant.getByLabel('Review note').fill('Justified: emergency in the waiting room');
  await grant.getByRole('button', { name: 'Mark reviewed' }).click();
  await expect(compliance.page.getByRole('status')).toContainText('Saved.');
  await expect(compliance.page.getByTestId('unreviewed-request')).toHaveCount(0);

  await Promise.all([admin, midwife, gp, compliance].map(({ context }) => context.close()));
});
