// Care-protocol thresholds in Chromium on a 360 px phone screen. An admin opens the page from
// the admin area, an out-of-range EPDS cut-off is rejected with a clear message, she lowers the
// EPDS referral cut-off, and the page shows the new version, who changed it and the history.
// The page passes axe-core and fits the screen without horizontal scrolling.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { PHONE, waitForHydration } from '../support/shell.js';

async function expectAccessibleOnPhone(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(results.violations.map((violation) => violation.id)).toEqual([]);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
}

test('an admin changes the EPDS referral threshold', async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  await enroll(page, adminLink('NURTURE_PROTOCOLS_ADMIN_LINK'), 'Own device', '/admin/users');

  await page.goto('/admin');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Care protocol thresholds' }).click();
  await expect(page).toHaveURL(/\/admin\/protocols$/);
  await waitForHydration(page);
  const current = page.getByTestId('current-version');
  await expect(current).toHaveText('Version 0: the built-in defaults');
  const referral = page.getByLabel('Referral to mental health at a total of');
  await expect(referral).toHaveValue('13');
  await expect(page.getByLabel('Severe range: systolic at')).toHaveValue('160');
  await expect(page.getByLabel('Fever at (°C)')).toHaveValue('38.0');
  await expectAccessibleOnPhone(page);

  const save = page.getByRole('button', { name: 'Save thresholds' });
  await referral.fill('31');
  await save.click();
  await expect(page.getByRole('alert')).toContainText('outside the allowed range 0 to 30');
  await expect(current).toHaveText('Version 0: the built-in defaults');

  await referral.fill('12');
  await save.click();
  await expect(page.getByRole('status')).toContainText('Version 1 is in force');
  await expect(current).toContainText('Version 1, changed by Pat Admin');
  await expect(page.getByLabel('Referral to mental health at a total of')).toHaveValue('12');
  const versions = page.getByRole('list', { name: 'Versions, newest first' }).getByRole('listitem');
  await expect(versions).toHaveCount(1);
  await expect(versions.first()).toContainText('EPDS referral at 12 or more');
  await expectAccessibleOnPhone(page);

  // The change is stored: a reload shows it without the form's state.
  await page.reload();
  await waitForHydration(page);
  await expect(current).toContainText('Version 1, changed by Pat Admin');
  await context.close();
});
