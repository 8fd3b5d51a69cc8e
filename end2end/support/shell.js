// Locators and actions for the application shell shared by every page.

export const PHONE = { width: 360, height: 740 };

export function shell(page) {
  return {
    menuButton: page.getByRole('button', { name: /menu/i }),
    nav: page.getByRole('navigation', { name: 'Main' }),
    navLink: (name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }),
    heading: page.getByRole('heading', { level: 1 }),
    largeTextButton: page.getByRole('button', { name: 'Large text' }),
  };
}

// Resolves once the wasm bundle has hydrated the page: the menu button is rendered hidden on
// the server and shown by an effect that only runs in the browser.
export async function waitForHydration(page) {
  await page.locator('.menu-button:not([hidden])').waitFor({ state: 'attached' });
}

// Records console errors, failed requests and uncaught exceptions, including CSP violations,
// which Chromium reports as console errors.
export function collectProblems(page) {
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A navigation cancels the requests of the page it leaves; that is not a failure.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${request.url()}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return problems;
}
