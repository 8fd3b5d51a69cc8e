// Actions on the enrollment, sign-in and security pages.
import { expect } from '@playwright/test';
import { waitForHydration } from './shell.js';

// Opens an enrollment link and creates a passkey named `name`; waits for the landing page.
export async function enroll(page, link, name, landingPath) {
  await page.goto(link);
  await waitForHydration(page);
  await expect(page.getByText(/^Welcome, /)).toBeVisible();
  await page.getByLabel('Name for this passkey').fill(name);
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await expect(page).toHaveURL(new RegExp(`${landingPath}$`));
}

export async function signOut(page) {
  await page.goto('/account/security');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

// Signs in without typing an email: the browser offers the discoverable passkey.
export async function signInWithoutEmail(page) {
  await page.goto('/sign-in');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
}

export function passkeyItems(page) {
  return page.getByRole('list', { name: 'Your passkeys' }).getByRole('listitem');
}
