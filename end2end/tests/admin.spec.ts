import { test, expect, type Page, type TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as hydration from './hydration';

// Issue 6, in the browser, with JavaScript on and off: the first admin comes from the command
// line, searches for a user and promotes them with the role form; the audit line appears, the
// promoted user sees the admin links on their next page, and a non-admin gets the 403 page.
// With JavaScript on, the pages hydrate: the search follows the typing and the role form answers
// in place, both without a page load, and the console stays free of errors and warnings.

type Person = { first: string; last: string; username: string; email: string };

function person(first: string, last: string, tag: string): Person {
  return {
    first,
    last,
    username: `${first}${tag}`.toLowerCase().slice(0, 40),
    email: `${first}.${tag}@example.com`.toLowerCase(),
  };
}

const fullName = (p: Person) => `${p.first} ${p.last}`;

/** Signs up on the local provider's page, starting from a protected page; lands on /profile. */
async function signUp(page: Page, p: Person) {
  await page.goto('/profile');
  await expect(page).toHaveURL(/\/__clerk\/sign-in\?redirect_url=/);
  await page.getByLabel('First name').fill(p.first);
  await page.getByLabel('Last name').fill(p.last);
  await page.getByLabel('Username').fill(p.username);
  await page.getByLabel('Email address').fill(p.email);
  await page.getByRole('button', { name: 'Create user and sign in' }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByRole('heading', { level: 1, name: fullName(p) })).toBeVisible();
}

/** `warden users set-role …` against the running app's PostgreSQL (see end2end/run). */
function cliSetRole(email: string, role: 'admin' | 'user', reason: string): string {
  const bin = process.env.WARDEN_BIN;
  if (!bin || !process.env.WARDEN_DATA_DIR) {
    throw new Error('WARDEN_BIN and WARDEN_DATA_DIR are unset: run the tests with end2end/run');
  }
  return execFileSync(bin, ['users', 'set-role', '--email', email, '--role', role, '--reason', reason], {
    env: process.env,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });
const adminLink = (page: Page) => nav(page).getByRole('link', { name: 'Admin', exact: true });
const usersLink = (page: Page) => nav(page).getByRole('link', { name: 'Users', exact: true });

async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: testInfo.outputPath(name), fullPage: true });
}

test('the first admin promotes a user, who then sees the admin pages; others get 403', async ({
  page,
  browser,
}, testInfo) => {
  const tag = `${testInfo.project.name.replace(/[^a-z]/g, '')}${Date.now()}`;
  const admin = person('Grace', 'Hopper', tag);
  // Unique per project and run, so that the search finds exactly this person.
  const member = person('Linus', `Member${tag}`, tag);
  const reason = `Runs the ${testInfo.project.name} release (${tag})`;
  const js = hydration.jsOn(testInfo);
  const problems = hydration.watchConsole(page);

  // The member signs up first, in a browser context of their own.
  const memberContext = await browser.newContext();
  const memberPage = await memberContext.newPage();
  const memberProblems = hydration.watchConsole(memberPage);
  try {
    await signUp(memberPage, member);
    await expect(adminLink(memberPage)).toHaveCount(0);

    // (5) A non-admin gets the designed 403 page.
    const forbidden = await memberPage.goto('/admin');
    expect(forbidden?.status()).toBe(403);
    await expect(
      memberPage.getByRole('heading', { level: 1, name: 'You do not have access to this page' }),
    ).toBeVisible();
    await expect(memberPage.getByRole('link', { name: 'Go to the home page' })).toBeVisible();
    await screenshot(memberPage, testInfo, 'forbidden.png');

    // (1) The future admin signs up through the local provider, then the command line
    // promotes them (this is how the first admin comes to be).
    await signUp(page, admin);
    await expect(adminLink(page)).toHaveCount(0);
    const said = cliSetRole(admin.email, 'admin', `e2e bootstrap ${tag}`);
    expect(said).toContain('admin');

    // Their next page shows the admin links (the role comes from the database).
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: fullName(admin) })).toBeVisible();
    await expect(adminLink(page)).toBeVisible();
    await screenshot(page, testInfo, 'profile.png');

    await adminLink(page).click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Admin overview' })).toBeVisible();
    await expect(page.getByRole('heading', { level: 2, name: 'Sign-ups per day' })).toBeVisible();
    await screenshot(page, testInfo, 'admin-overview.png');

    // (2) Search for the member by a fragment of their name, case-insensitively.
    await usersLink(page).click();
    await expect(page).toHaveURL(/\/admin\/users$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
    const search = page.getByRole('search');
    if (js) {
      // The list follows the typing: no button, no page load, and the URL says what it shows.
      await hydration.hydrated(page);
      await hydration.markDocument(page);
      await search.getByLabel('Search name or email').fill(`member${tag}`.toUpperCase());
    } else {
      await search.getByLabel('Search name or email').fill(`member${tag}`.toUpperCase());
      await search.getByRole('button', { name: 'Search' }).click();
    }
    await expect(page).toHaveURL(/\/admin\/users\?(.*&)?q=MEMBER/);
    const table = page.getByRole('table');
    await expect(table.getByRole('link', { name: fullName(member) })).toBeVisible();
    await expect(table.getByRole('link', { name: fullName(admin) })).toHaveCount(0);
    await expect(page.getByText(/^1 user/)).toBeVisible();
    if (js) {
      await hydration.expectSameDocument(page);
      // Back and forward walk the searches, still in this document.
      await page.goBack();
      await expect(page).toHaveURL(/\/admin\/users$/);
      await expect(search.getByLabel('Search name or email')).toHaveValue('');
      await expect(table.getByRole('link', { name: fullName(admin) })).toBeVisible();
      await page.goForward();
      await expect(page).toHaveURL(/\/admin\/users\?(.*&)?q=MEMBER/);
      await expect(search.getByLabel('Search name or email')).toHaveValue(
        `member${tag}`.toUpperCase(),
      );
      await expect(table.getByRole('link', { name: fullName(admin) })).toHaveCount(0);
      await hydration.expectSameDocument(page);
    }
    await screenshot(page, testInfo, 'admin-users.png');

    // ... and promote them with the role form and a reason.
    await table.getByRole('link', { name: fullName(member) }).click();
    await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { level: 1, name: fullName(member) })).toBeVisible();
    await expect(page.getByText('No role changes yet.')).toBeVisible();
    if (js) {
      await hydration.hydrated(page);
      await hydration.markDocument(page);
    }
    // A refusal is shown above the form: a reason over the limit (the limit the form's
    // `maxlength` puts on typing, taken off as an old or hand-made client would).
    const reasonBox = page.getByLabel(/^Reason/);
    await reasonBox.evaluate((box) => box.removeAttribute('maxlength'));
    await reasonBox.fill('x'.repeat(501));
    await page.getByRole('button', { name: 'Promote to admin' }).click();
    await expect(page.getByRole('alert')).toHaveText('A reason can have at most 500 characters.');
    await expect(page.getByText('No role changes yet.')).toBeVisible();
    await page.getByLabel(/^Reason/).fill(reason);
    await page.getByRole('button', { name: 'Promote to admin' }).click();
    await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}\?notice=role-changed$/);
    await expect(page.getByRole('status')).toHaveText(
      `${fullName(member)}'s role is now admin. It takes effect on their next request.`,
    );

    // (3) The audit line: who, from and to, and the reason.
    const history = page.getByRole('region', { name: 'Role history' });
    const rows = history.getByRole('row').filter({ hasText: reason });
    await expect(rows).toHaveCount(1);
    const cells = rows.first().getByRole('cell');
    await expect(cells.nth(1)).toHaveText(fullName(admin));
    await expect(cells.nth(2)).toHaveText(/user\s*→\s*admin/);
    await expect(cells.nth(3)).toHaveText(reason);
    // The form now offers the way back.
    await expect(page.getByRole('button', { name: 'Demote to user' })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
    if (js) await hydration.expectSameDocument(page);
    await screenshot(page, testInfo, 'admin-user.png');

    // (4) The promoted member sees the admin links on their next page, and may use them.
    await memberPage.goto('/');
    await expect(adminLink(memberPage)).toBeVisible();
    await expect(usersLink(memberPage)).toBeVisible();
    await adminLink(memberPage).click();
    await expect(
      memberPage.getByRole('heading', { level: 1, name: 'Admin overview' }),
    ).toBeVisible();
    if (js) {
      await hydration.hydrated(page);
      await hydration.hydrated(memberPage);
    }

    // (6) The last admin cannot demote themselves. Every other admin (the member, and any
    // admin an earlier run made in this database) is demoted through the list first.
    await page.goto('/admin/users?role=admin&size=100');
    // Every run names its admin Grace Hopper: the email, unique per run, tells this one apart.
    const adminRows = await page
      .getByRole('table')
      .getByRole('row')
      .evaluateAll((rows) =>
        rows.flatMap((row) => {
          const link = row.querySelector('a[href^="/admin/users/"]');
          return link
            ? [{ name: link.textContent ?? '', href: link.getAttribute('href') ?? '', text: row.textContent ?? '' }]
            : [];
        }),
      );
    const isOwn = (row: { text: string }) => row.text.includes(admin.email);
    const others = adminRows.filter((row) => !isOwn(row));
    const own = adminRows.filter(isOwn);
    expect(others.map((row) => row.name)).toContain(fullName(member));
    expect(own).toHaveLength(1);
    for (const other of others) {
      await page.goto(other.href);
      await page.getByRole('button', { name: 'Demote to user' }).click();
      await expect(page.getByRole('status')).toHaveText(
        `${other.name}'s role is now user. It takes effect on their next request.`,
      );
    }
    await page.goto(own[0].href);
    await expect(page.getByRole('heading', { level: 1, name: fullName(admin) })).toBeVisible();
    if (js) {
      await hydration.hydrated(page);
      await hydration.markDocument(page);
    }
    await page.getByRole('button', { name: 'Demote to user' }).click();
    await expect(page.getByRole('alert')).toHaveText(
      `${fullName(admin)} is the last admin; promote someone else first.`,
    );
    await expect(page.getByRole('button', { name: 'Demote to user' })).toBeVisible();
    if (js) await hydration.expectSameDocument(page);
    await screenshot(page, testInfo, 'last-admin.png');
    // Still an admin, by the database.
    await page.goto('/admin');
    await expect(page.getByRole('heading', { level: 1, name: 'Admin overview' })).toBeVisible();
    if (js) await hydration.hydrated(page);

    // The answers the steps asked for: the refused reason and the refused last admin (both
    // 422), and the member's 403 page.
    if (js) hydration.expectNoConsoleProblems(problems, [/status of 422 .*\/api\/admin_set_user_role\)$/, hydration.noIcon]);
    if (js) hydration.expectNoConsoleProblems(memberProblems, [/status of 403 .*\/admin\)$/, hydration.noIcon]);
  } finally {
    await memberContext.close();
  }
});
