// The clinician dashboard in Chromium: a midwife keeps /clinician open while two of her
// patients, each in her own browser context, report their blood pressure. The severe-range
// reading shows up on the midwife's page as an urgent alert, with a polite live notice, and
// moves that patient to the top of the list, without a reload. She then acknowledges the alert
// and works a follow-up task from the dashboard itself. The page passes axe-core and fits a
// 360 px screen.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { PHONE, waitForHydration } from '../support/shell.js';

test.describe.configure({ mode: 'serial' });

let admin;
let midwife;
const mothers = [];

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

async function expectNoHorizontalScroll(page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
}

async function openDashboard(page) {
  await page.goto('/clinician');
  await waitForHydration(page);
}

// The midwife invites a mother, who enrolls and signs the clinic's care-coordination consent
// for her midwife: contact details, care logistics and maternal health.
async function consentingMother(browser, name, email) {
  await openDashboard(midwife.page);
  const link = midwife.page.getByTestId('patient-link');
  const previous = (await link.textContent()) ?? '';
  await midwife.page.getByLabel('Name', { exact: true }).fill(name);
  await midwife.page.getByLabel('Email', { exact: true }).fill(email);
  await midwife.page.getByLabel('Date of birth', { exact: true }).fill('1994-09-30');
  await midwife.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(link).toContainText('/enroll#');
  await expect(link).not.toHaveText(previous);
  const mother = await person(browser, await link.textContent(), '/patient');

  await mother.page.goto('/patient/consents');
  await waitForHydration(mother.page);
  const text = mother.page.getByTestId('consent-text');
  await text.getByText('Review and sign').click();
  for (const category of [/Contact and identity details/, /Appointments and care team/, /Maternal health/]) {
    await text.getByRole('checkbox', { name: category }).check();
  }
  await text.getByRole('checkbox', { name: 'Midwife', exact: true }).check();
  await text.getByLabel('Purpose').fill('coordinating my postnatal care');
  await text.getByLabel('Your full name').fill(name);
  await text.getByRole('button', { name: 'Sign with passkey' }).click();
  await expect(mother.page.getByRole('status').first()).toContainText('Consent signed');
  mothers.push(mother);
  return mother;
}

async function reportBloodPressure(mother, systolic, diastolic) {
  await mother.page.goto('/patient/vitals');
  await waitForHydration(mother.page);
  await mother.page.getByLabel('Top number (systolic)').fill(String(systolic));
  await mother.page.getByLabel('Bottom number (diastolic)').fill(String(diastolic));
  await mother.page.getByRole('button', { name: 'Save blood pressure' }).click();
  await expect(mother.page.getByRole('status'))
    .toContainText(`Saved: Blood pressure ${systolic}/${diastolic} mmHg.`);
}

function patientRows(page) {
  return page.getByTestId('dashboard-patient');
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(120_000);
  admin = await person(browser, adminLink('NURTURE_DASHBOARD_ADMIN_LINK'), '/admin/users');

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
  await admin.page.getByLabel('Name', { exact: true }).fill('Mona Midwife');
  await admin.page.getByLabel('Email', { exact: true }).fill('mona.dashboard@example.org');
  await admin.page.getByRole('checkbox', { name: 'Midwife', exact: true }).first().check();
  await admin.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(admin.page.getByTestId('issued-link')).toContainText('/enroll#');
  midwife = await person(browser, await admin.page.getByTestId('issued-link').textContent(), '/clinician');
});

test.afterAll(async () => {
  const people = [admin, midwife, ...mothers].filter(Boolean);
  await Promise.all(people.map(({ context }) => context.close()));
});

test("the midwife's dashboard shows the alert without a reload", async ({ browser }) => {
  test.setTimeout(180_000);
  const dora = await consentingMother(browser, 'Dora Dashboard', 'dora.dashboard@example.org');
  const quinn = await consentingMother(browser, 'Quinn Quietly', 'quinn.quietly@example.org');
  // A normal reading gives Quinn the most recent activity, so she is listed first.
  await reportBloodPressure(quinn, 118, 76);

  const { page } = midwife;
  await openDashboard(page);
  await expect(patientRows(page)).toHaveCount(2);
  await expect(patientRows(page).first()).toContainText('Quinn Quietly');
  await expect(page.getByTestId('dashboard-alerts')).toContainText('No open alerts');
  await expectNoAxeViolations(page);

  // From here on the page must update by itself: a marker on the window would vanish on a
  // reload or a navigation.
  await page.evaluate(() => { window.dashboardStayedOpen = true; });
  await reportBloodPressure(dora, 165, 112);

  await expect(page.getByTestId('live-notices'))
    .toContainText('Urgent alert for Dora Dashboard', { timeout: 10_000 });
  await expect(patientRows(page).first()).toContainText('Dora Dashboard');
  await expect(patientRows(page).first()).toContainText('Urgent: 1 alert');
  await expect(patientRows(page).first()).toHaveAttribute('data-alert', 'urgent');
  const alert = page.getByTestId('dashboard-alert');
  await expect(alert).toHaveCount(1);
  await expect(alert).toContainText('Urgent: blood pressure in the severe range');
  await expect(alert).toContainText('Dora Dashboard');
  expect(await page.evaluate(() => window.dashboardStayedOpen)).toBe(true);
  await expect(page.getByTestId('live-notices')).toHaveAttribute('aria-live', 'polite');
  await expectNoAxeViolations(page);

  // The row links to the chart for a stated purpose and to the messages.
  const chart = patientRows(page).first().getByRole('link', { name: 'Open chart of Dora Dashboard' });
  await expect(chart).toHaveAttribute('href', /^\/clinician\/chart\?patient=[0-9a-f-]{36}&purpose=/);
  const messages = patientRows(page).first().getByRole('link', { name: 'Messages with Dora Dashboard' });
  await expect(messages).toHaveAttribute('href', /^\/clinician\/messages\?patient=[0-9a-f-]{36}$/);
});

test('the midwife filters and searches her patients', async () => {
  const { page } = midwife;
  await openDashboard(page);
  await expect(patientRows(page)).toHaveCount(2);

  await page.getByRole('checkbox', { name: 'Alerts' }).check();
  await expect(patientRows(page)).toHaveCount(1);
  await expect(patientRows(page)).toContainText('Dora Dashboard');
  await page.getByRole('checkbox', { name: 'Alerts' }).uncheck();
  await expect(patientRows(page)).toHaveCount(2);

  await page.getByLabel('Search by name').fill('quinn');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(patientRows(page)).toHaveCount(1);
  await expect(patientRows(page)).toContainText('Quinn Quietly');
  await page.getByLabel('Search by name').fill('Nobody Here');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('dashboard-patients')).toContainText('No patients match.');
});

test('the dashboard fits a phone screen', async ({ browser }) => {
  const context = await browser.newContext({ viewport: PHONE, storageState: await midwife.context.storageState() });
  const page = await context.newPage();
  await openDashboard(page);
  await expect(patientRows(page)).toHaveCount(2);
  await expectNoHorizontalScroll(page);
  await expectNoAxeViolations(page);
  await context.close();
});

test('the midwife acknowledges an alert and works a task from the dashboard', async () => {
  test.setTimeout(120_000);
  const quinn = mothers[1];
  // A raised reading gives the midwife a follow-up task.
  await reportBloodPressure(quinn, 146, 94);

  const { page } = midwife;
  await openDashboard(page);
  const task = page.getByTestId('dashboard-task');
  await expect(task).toHaveCount(1);
  await expect(task).toContainText('Follow up raised blood pressure');
  await expect(task).toContainText('Quinn Quietly · Open');
  await expectNoAxeViolations(page);

  await task.getByRole('button', { name: 'Start: Follow up raised blood pressure for Quinn Quietly' }).click();
  await expect(task).toContainText('Quinn Quietly · In progress');
  await task.getByRole('button', { name: 'Mark done: Follow up raised blood pressure for Quinn Quietly' }).click();
  await expect(page.getByTestId('dashboard-tasks')).toContainText('You have no open tasks.');

  const alert = page.getByTestId('dashboard-alert');
  await expect(alert).toHaveCount(1);
  await alert.getByRole('button', { name: 'Acknowledge alert for Dora Dashboard' }).click();
  await expect(page.getByTestId('dashboard-alerts')).toContainText('No open alerts for your patients.');
  await expect(patientRows(page).filter({ hasText: 'Dora Dashboard' })).not.toContainText('Urgent: 1 alert');
  await expectNoAxeViolations(page);
});
