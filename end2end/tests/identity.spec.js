// Passkey identity in Chromium with virtual authenticators: a fresh installation bootstrapped
// from the command line, an admin who invites a midwife, a midwife who invites a patient, and
// usernameless sign-in, passkey management and the user-verification requirement.
import { test, expect } from '@playwright/test';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll, passkeyItems, signInWithoutEmail, signOut } from '../support/identity.js';
import { collectProblems, waitForHydration } from '../support/shell.js';

test.describe.configure({ mode: 'serial' });

test('admin, midwife and patient enroll; admin manages passkeys', async ({ browser }) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const problems = collectProblems(admin);
  const adminKey = await addVirtualAuthenticator(admin);

  await enroll(admin, adminLink('NURTURE_ADMIN_LINK'), 'Admin laptop', '/admin/users');
  await expect(admin.getByRole('link', { name: 'Ada Admin' })).toBeVisible();

  // The admin invites a midwife.
  await admin.getByLabel('Name', { exact: true }).fill('Mia Midwife');
  await admin.getByLabel('Email', { exact: true }).fill('mia@example.org');
  await admin.getByRole('checkbox', { name: 'Midwife' }).first().check();
  await admin.getByRole('button', { name: 'Create invitation' }).click();
  await expect(admin.getByTestId('issued-link')).toContainText('/enroll#');
  const midwifeLink = await admin.getByTestId('issued-link').textContent();
  await expect(admin.getByTestId('user-item').filter({ hasText: 'Mia Midwife' })).toBeVisible();

  // Sign out, then sign in without typing anything: the discoverable passkey is offered.
  await signOut(admin);
  await signInWithoutEmail(admin);
  await expect(admin).toHaveURL(/\/admin\/users$/);

  // The same device cannot register twice for one account.
  await admin.goto('/account/security');
  await waitForHydration(admin);
  await expect(passkeyItems(admin)).toHaveCount(1);
  await admin.getByLabel('Name for a new passkey').fill('Backup key');
  await admin.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(admin.getByRole('alert')).toContainText('already has a passkey');

  // A second device, a security key, can; then remove its passkey again.
  await adminKey.setPresence(false);
  const securityKey = await addVirtualAuthenticator(admin, { transport: 'usb' });
  await admin.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(passkeyItems(admin)).toHaveCount(2);
  expect(await securityKey.credentialCount()).toBe(1);
  // Passkeys are listed oldest first, so the new one is second.
  await expect(passkeyItems(admin).nth(1).getByLabel('Passkey name')).toHaveValue('Backup key');
  await passkeyItems(admin).nth(1).getByRole('button', { name: 'Remove' }).click();
  await expect(passkeyItems(admin)).toHaveCount(1);
  await expect(passkeyItems(admin).getByRole('button', { name: 'Remove' })).toBeDisabled();
  expect(problems.filter((problem) => !problem.includes('HTTP 401'))).toEqual([]);

  // The midwife enrolls on her own device and invites a patient.
  const midwifeContext = await browser.newContext();
  const midwife = await midwifeContext.newPage();
  await addVirtualAuthenticator(midwife);
  await enroll(midwife, midwifeLink, 'Work phone', '/clinician');
  await midwife.getByLabel('Name', { exact: true }).fill('Pat Patient');
  await midwife.getByLabel('Email', { exact: true }).fill('pat@example.org');
  await midwife.getByLabel('Date of birth', { exact: true }).fill('1995-03-14');
  await midwife.getByRole('button', { name: 'Create invitation' }).click();
  await expect(midwife.getByTestId('patient-link')).toContainText('/enroll#');
  const patientLink = await midwife.getByTestId('patient-link').textContent();

  // The patient enrolls and lands in her own area.
  const patientContext = await browser.newContext();
  const patient = await patientContext.newPage();
  await addVirtualAuthenticator(patient);
  await enroll(patient, patientLink, 'My phone', '/patient');
  await expect(patient.getByRole('link', { name: 'Pat Patient' })).toBeVisible();

  // A used invitation link explains what to do next.
  const reuse = await patientContext.newPage();
  await reuse.goto(patientLink);
  await waitForHydration(reuse);
  await expect(reuse.getByRole('alert')).toContainText('already used');

  await Promise.all([adminContext.close(), midwifeContext.close(), patientContext.close()]);
});

test('sign-in is refused without user verification', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authenticator = await addVirtualAuthenticator(page);
  await enroll(page, adminLink('NURTURE_SECOND_ADMIN_LINK'), 'Desk key', '/admin/users');
  await signOut(page);

  await authenticator.setUserVerified(false);
  await signInWithoutEmail(page);

  await expect(page.getByRole('alert').first()).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/account/security');
  await expect(page.getByText('You need to be signed in')).toBeVisible();
  await context.close();
});
