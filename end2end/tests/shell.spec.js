// The server-rendered shell hydrates, stays usable without JavaScript, and fits a phone.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { PHONE, collectProblems, shell, waitForHydration } from '../support/shell.js';

test.describe('hydrated shell', () => {
  test.use({ viewport: PHONE });

  test('menu button works after hydration', async ({ page }) => {
    const problems = collectProblems(page);
    await page.goto('/');
    await waitForHydration(page);
    const { menuButton, nav, navLink, heading } = shell(page);

    await expect(menuButton).toBeVisible();
    await expect(menuButton).toHaveAttribute('aria-expanded', 'false');
    await expect(nav).toBeHidden();

    await menuButton.click();
    await expect(menuButton).toHaveAttribute('aria-expanded', 'true');
    await expect(nav).toBeVisible();

    await navLink('My care').click();
    await expect(page).toHaveURL(/\/patient$/);
    await expect(heading).toHaveText('My care');
    await expect(nav).toBeHidden();
    expect(problems).toEqual([]);
  });

  test('large text persists across reloads', async ({ page }) => {
    const problems = collectProblems(page);
    await page.goto('/');
    await waitForHydration(page);
    const { largeTextButton } = shell(page);

    await expect(largeTextButton).toHaveAttribute('aria-pressed', 'false');
    await largeTextButton.click();
    await expect(largeTextButton).toHaveAttribute('aria-pressed', 'true');
    await expect(page.locator('html')).toHaveClass(/text-large/);

    await page.reload();
    await waitForHydration(page);
    await expect(page.locator('html')).toHaveClass(/text-large/);
    await expect(largeTextButton).toHaveAttribute('aria-pressed', 'true');

    await largeTextButton.click();
    await expect(largeTextButton).toHaveAttribute('aria-pressed', 'false');
    await expect(page.locator('html')).not.toHaveClass(/text-large/);
    expect(problems).toEqual([]);
  });

  test('page fits a 360 px screen', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false, viewport: PHONE });

  test('page renders its content', async ({ page }) => {
    await page.goto('/');
    const { heading, navLink, menuButton } = shell(page);

    await expect(heading).toHaveText('Postnatal care, together');
    await expect(navLink('Clinician')).toBeVisible();
    await expect(menuButton).toBeHidden();
  });

  test('large text form works as a plain form', async ({ page }) => {
    await page.goto('/research');
    await shell(page).largeTextButton.click();

    await expect(page).toHaveURL(/\/research\??$/);
    await expect(page.locator('html')).toHaveClass(/text-large/);
    await expect(shell(page).largeTextButton).toHaveAttribute('aria-pressed', 'true');
  });
});

test('unknown address answers 404 with a page', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response.status()).toBe(404);
  await expect(shell(page).heading).toHaveText('Page not found');
});

test('state-changing request from another origin is rejected', async ({ request }) => {
  const response = await request.post('/api/preferences/text-size', {
    form: { size: 'large' },
    headers: { Origin: 'http://evil.localhost:3000' },
  });
  expect(response.status()).toBe(403);
});

for (const path of ['/', '/patient', '/sign-in', '/enroll', '/account/security', '/no-such-page']) {
  test(`no accessibility violations on ${path}`, async ({ page }) => {
    await page.goto(path);
    await waitForHydration(page);
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    expect(results.violations.map((violation) => violation.id)).toEqual([]);
  });
}
