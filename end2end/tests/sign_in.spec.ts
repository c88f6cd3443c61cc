import { test, expect } from '@playwright/test';
import * as hydration from './hydration';

// Sign up through the local Clerk-compatible provider, land back signed in, stay signed in
// across a session-token expiry, sign out. Runs with JavaScript on and off, against the
// provider as a production instance and as a development one (CLERK_INSTANCE, set by
// end2end/run), whose Account Portal round trip carries the development browser.
const development = process.env.CLERK_INSTANCE === 'development';

test('sign up, see the profile, survive a token expiry, sign out', async ({ page }, testInfo) => {
  const tag = `${testInfo.project.name.replace(/[^a-z]/g, '')}${Date.now()}`;
  const email = `ada.${tag}@example.com`;
  const js = hydration.jsOn(testInfo);
  const problems = hydration.watchConsole(page);

  await page.goto('/');
  await expect(page.getByText('Development mode')).toBeVisible();

  // A protected page sends us to the provider's sign-in page, with a way back.
  await page.goto('/profile');
  await expect(page).toHaveURL(/\/__clerk\/sign-in\?redirect_url=/);
  if (development) {
    // The portal is told which development browser to sign in.
    await expect(page).toHaveURL(/__clerk_db_jwt=/);
  } else {
    await expect(page).not.toHaveURL(/__clerk_db_jwt=/);
  }
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  await page.getByLabel('Username').fill(`ada${tag}`.slice(0, 40));
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Create user and sign in' }).click();

  // Back on our profile page, synced on the way, with nothing of Clerk's left in the URL.
  await expect(page).toHaveURL(/\/profile$/);
  const cookieNames = (await page.context().cookies()).map((c) => c.name);
  expect(cookieNames.includes('__clerk_db_jwt')).toBe(development);
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  await expect(page.getByText(email).first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('profile.png'), fullPage: true });

  // The session token lives 3 s here (plus Clerk's 5 s skew): let it lapse between clicks.
  await page.waitForTimeout(9_000);
  await page.getByRole('link', { name: 'Profile' }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();

  // "Refresh from Clerk": a plain form without JavaScript, an update in place with it.
  if (js) {
    await hydration.hydrated(page);
    await hydration.markDocument(page);
  }
  await page.getByRole('button', { name: 'Refresh from Clerk' }).click();
  await expect(page.getByText('Your profile was refreshed from Clerk.')).toBeVisible();
  await expect(page).toHaveURL(/\/profile\?refreshed=1$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  if (js) await hydration.expectSameDocument(page);

  // Sign out.
  await page.getByRole('link', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();

  // Really signed out: the profile asks to sign in again.
  await page.goto('/profile');
  await expect(page).toHaveURL(/\/__clerk\/sign-in/);
  if (js) hydration.expectNoConsoleProblems(problems, [hydration.noIcon]);
});
