// Secure messaging in Chromium: a mother on a 360 px phone screen writes to her midwife with
// text that would be markup if it were not escaped, the midwife sees the unread badge, opens
// the thread, sees the literal text and replies, and the mother's unread count goes from 1 to
// 0 once she reads the reply. Later replies reach her open list and thread without a reload.
// Both pages pass axe-core and fit the phone screen.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { addVirtualAuthenticator, adminLink } from '../support/passkeys.js';
import { enroll } from '../support/identity.js';
import { PHONE, waitForHydration } from '../support/shell.js';

const MARKUP = '<b>hello</b><script>alert(1)</script>';
const SUBJECT = 'Stitches after the birth';
const REPLY = 'Some soreness is expected. Keep them clean and dry.';
const SECOND = 'Let me know how they feel tomorrow.';
const THIRD = 'I can also visit on Thursday morning.';
const DRAFT = 'Thank you, tomorrow';

// Opens a new browser context with its own passkey and enrolls from `link`.
async function person(browser, link, landingPath, viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  await enroll(page, link, 'Own device', landingPath);
  return { context, page };
}

async function checkPage(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(results.violations.map((violation) => violation.id)).toEqual([]);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
}

async function open(page, path) {
  await page.goto(path);
  await waitForHydration(page);
}

// The thread's messages must hold the text itself: no element was made from it.
async function expectLiteralText(page) {
  const messages = page.getByRole('list', { name: 'Messages' });
  await expect(messages.locator('.message__body').first()).toHaveText(MARKUP);
  await expect(messages.locator('b')).toHaveCount(0);
  await expect(messages.locator('script')).toHaveCount(0);
}

// The admin publishes a care-coordination consent and invites a midwife, who invites a mother
// enrolling on a phone. The mother lets midwives use her maternal data.
async function setUp(browser) {
  const admin = await person(browser, adminLink('NURTURE_MESSAGES_ADMIN_LINK'), '/admin/users');
  await open(admin.page, '/admin/consents');
  await admin.page.getByLabel('Type').selectOption('care_coordination');
  await admin.page.getByLabel('Title').fill('Care coordination');
  await admin.page.getByLabel('Consent text').fill(
    'I agree that the members of my care team I choose may use the parts of my record I choose.');
  await admin.page.getByRole('button', { name: 'Create template' }).click();
  await expect(admin.page.getByTestId('consent-template')).toContainText('version 1');

  await open(admin.page, '/admin/users');
  await admin.page.getByLabel('Name', { exact: true }).fill('Mina Midwife');
  await admin.page.getByLabel('Email', { exact: true }).fill('mina.messages@example.org');
  await admin.page.getByRole('checkbox', { name: 'Midwife', exact: true }).first().check();
  await admin.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(admin.page.getByTestId('issued-link')).toContainText('/enroll#');
  const midwifeLink = await admin.page.getByTestId('issued-link').textContent();
  const midwife = await person(browser, midwifeLink, '/clinician');

  await midwife.page.getByLabel('Name', { exact: true }).fill('Mara Mother');
  await midwife.page.getByLabel('Email', { exact: true }).fill('mara.messages@example.org');
  await midwife.page.getByLabel('Date of birth', { exact: true }).fill('1994-02-17');
  await midwife.page.getByRole('button', { name: 'Create invitation' }).click();
  await expect(midwife.page.getByTestId('patient-link')).toContainText('/enroll#');
  const motherLink = await midwife.page.getByTestId('patient-link').textContent();
  const mother = await person(browser, motherLink, '/patient', PHONE);

  await open(mother.page, '/patient/consents');
  const text = mother.page.getByTestId('consent-text');
  await text.getByText('Review and sign').click();
  await text.getByRole('checkbox', { name: /Maternal health/ }).check();
  await text.getByRole('checkbox', { name: 'Midwife', exact: true }).check();
  await text.getByLabel('Purpose').fill('coordinating my postnatal care');
  await text.getByLabel('Your full name').fill('Mara Mother');
  await text.getByRole('button', { name: 'Sign with passkey' }).click();
  await expect(mother.page.getByRole('status').first()).toContainText('Consent signed');
  return { admin, midwife, mother };
}

test('a mother and her midwife exchange messages', async ({ browser }) => {
  test.setTimeout(150_000);
  const { admin, midwife, mother } = await setUp(browser);

  // The mother starts a conversation from her portal home.
  await open(mother.page, '/patient');
  await mother.page.getByRole('link', { name: 'Messages' }).click();
  await expect(mother.page).toHaveURL(/\/patient\/messages$/);
  await waitForHydration(mother.page);
  const motherTotal = mother.page.getByTestId('unread-total');
  await expect(motherTotal).toHaveText('You have no unread messages.');
  await checkPage(mother.page);
  await mother.page.getByLabel('Topic').selectOption('maternal');
  await mother.page.getByLabel('Subject').fill(SUBJECT);
  await mother.page.getByRole('checkbox', { name: /Mina Midwife/ }).check();
  await mother.page.getByLabel('Message', { exact: true }).fill(MARKUP);
  await mother.page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(mother.page).toHaveURL(/\/patient\/messages\?thread=/);
  await expect(mother.page.getByRole('heading', { name: SUBJECT })).toBeVisible();
  await expectLiteralText(mother.page);
  await checkPage(mother.page);
  // She leaves the thread: an open thread would load the reply at once and mark it read.
  await open(mother.page, '/patient');

  // The midwife sees the unread badge, opens the thread and replies.
  await open(midwife.page, '/clinician');
  await expect(midwife.page.getByTestId('messages-badge')).toHaveText('1 unread');
  await midwife.page.getByRole('link', { name: /^Messages\s*(\d+ unread)?$/ }).click();
  await expect(midwife.page).toHaveURL(/\/clinician\/messages$/);
  await waitForHydration(midwife.page);
  await expect(midwife.page.getByTestId('unread-total')).toHaveText('You have 1 unread message.');
  const entry = midwife.page.getByRole('link', { name: new RegExp(SUBJECT) });
  await expect(entry.getByTestId('unread-badge')).toHaveText('1 unread');
  await checkPage(midwife.page);
  await entry.click();
  await expect(midwife.page.getByRole('heading', { name: SUBJECT })).toBeVisible();
  await expectLiteralText(midwife.page);
  await expect(midwife.page.getByTestId('unread-total')).toHaveText('You have no unread messages.');
  await midwife.page.getByLabel('Your reply').fill(REPLY);
  await midwife.page.getByRole('button', { name: 'Send reply' }).click();
  await expect(midwife.page.getByRole('list', { name: 'Messages' })).toContainText(REPLY);
  await checkPage(midwife.page);

  // The mother has one unread message until she opens the thread.
  await open(mother.page, '/patient');
  await expect(mother.page.getByTestId('messages-badge')).toHaveText('1 unread');
  await open(mother.page, '/patient/messages');
  await expect(motherTotal).toHaveText('You have 1 unread message.');
  const thread = mother.page.getByRole('link', { name: new RegExp(SUBJECT) });
  await expect(thread.getByTestId('unread-badge')).toHaveText('1 unread');
  await thread.click();
  await expect(mother.page.getByRole('list', { name: 'Messages' })).toContainText(REPLY);
  await expect(motherTotal).toHaveText('You have no unread messages.');
  await checkPage(mother.page);
  await mother.page.getByRole('link', { name: 'Back to all conversations' }).click();
  await expect(motherTotal).toHaveText('You have no unread messages.');
  await expect(mother.page.getByTestId('unread-badge')).toHaveCount(0);
  await checkPage(mother.page);

  // New messages reach the mother's open pages without a reload: first her list, then the
  // thread she is reading, where her half-written reply keeps its text.
  await midwife.page.getByLabel('Your reply').fill(SECOND);
  await midwife.page.getByRole('button', { name: 'Send reply' }).click();
  await expect(midwife.page.getByRole('list', { name: 'Messages' })).toContainText(SECOND);
  await expect(motherTotal).toHaveText('You have 1 unread message.');
  await expect(mother.page.getByTestId('unread-badge')).toHaveText('1 unread');
  await mother.page.getByRole('link', { name: new RegExp(SUBJECT) }).click();
  await expect(mother.page.getByRole('list', { name: 'Messages' })).toContainText(SECOND);
  await expect(motherTotal).toHaveText('You have no unread messages.');
  await mother.page.getByLabel('Your reply').fill(DRAFT);
  await midwife.page.getByLabel('Your reply').fill(THIRD);
  await midwife.page.getByRole('button', { name: 'Send reply' }).click();
  await expect(mother.page.getByRole('list', { name: 'Messages' })).toContainText(THIRD);
  await expect(mother.page.getByLabel('Your reply')).toHaveValue(DRAFT);
  await expect(motherTotal).toHaveText('You have no unread messages.');
  await checkPage(mother.page);

  await Promise.all([admin, midwife, mother].map(({ context }) => context.close()));
});
