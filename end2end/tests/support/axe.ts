// Accessibility: axe-core's WCAG 2.1 A and AA rules, run on the page as it is (after
// hydration, when the test waited for it), once in each colour scheme the page declares.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** WCAG 2.0 and 2.1, levels A and AA: axe's tags for them. */
export const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The page's `color-scheme: light dark`: each is checked. */
export const COLOR_SCHEMES = ['light', 'dark'] as const;

/**
 * Runs axe in the light and then the dark colour scheme and fails with every violation found,
 * one line each: rule, impact, the elements and axe's own explanation of the first one.
 */
export async function expectNoWcagViolations(page: Page, what: string) {
  for (const colorScheme of COLOR_SCHEMES) {
    await page.emulateMedia({ colorScheme });
    const { violations } = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
    const found = violations.map((v) => {
      const targets = v.nodes.map((n) => n.target.join(' ')).join(', ');
      const why = v.nodes[0]?.failureSummary?.replace(/\s+/g, ' ').trim() ?? '';
      return `${v.id} (${v.impact ?? 'no impact'}): ${targets}: ${why}`;
    });
    // Soft: a failure reports both colour schemes, not just the first.
    expect.soft(found, `WCAG 2.1 A/AA violations on ${what}, ${colorScheme} colour scheme`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
}
