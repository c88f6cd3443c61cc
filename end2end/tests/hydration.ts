import { expect, type Page, type TestInfo } from '@playwright/test';

// With JavaScript on, pages hydrate: these helpers wait for that, prove that an update happened
// without a page load, and fail a test on any console error or warning (hydration mismatches
// and panics are reported there).

/** Whether this Playwright project runs with JavaScript on. */
export const jsOn = (testInfo: TestInfo) => testInfo.project.use.javaScriptEnabled !== false;

/** Collects the page's console errors and warnings, and uncaught errors. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`${message.type()}: ${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message} (${page.url()})`));
  return problems;
}

/** Fails unless every problem collected matches one of `expected` (answers a step asked for). */
export function expectNoConsoleProblems(problems: string[], expected: RegExp[] = []) {
  expect(problems.filter((problem) => !expected.some((pattern) => pattern.test(problem)))).toEqual(
    [],
  );
}

/** The local provider's pages name no icon, so the browser asks for /favicon.ico (and gets 404). */
export const noIcon = /status of 404 .*\/favicon\.ico\)$/;

/** Waits until the wasm has hydrated the page (`data-hydrated` on `<html>`). */
export async function hydrated(page: Page) {
  await expect(page.locator('html[data-hydrated]')).toHaveCount(1, { timeout: 20_000 });
}

/** Marks this document: the mark is gone after any page load. */
export async function markDocument(page: Page) {
  await page.evaluate(() => {
    (window as unknown as { e2eMark?: string }).e2eMark = 'still this document';
  });
}

/** Fails if the page was loaded again since `markDocument`. */
export async function expectSameDocument(page: Page) {
  const mark = await page.evaluate(() => (window as unknown as { e2eMark?: string }).e2eMark);
  expect(mark, 'the page was not loaded again').toBe('still this document');
}
