// Scaled topology: the "Your session has ended" notice has no WCAG 2.1 A/AA violations. It
// needs a refresh the provider refuses, so the stand-in's short tokens (the other pages:
// tests/accessibility.spec.ts).
import { expectNoWcagViolations } from '../support/axe';
import { SCALED } from '../support/env';
import { test } from '../support/fixtures';
import { waitForIslands } from '../support/flows';
import { restoreTopology, showSessionEnded } from '../support/topology';

test.skip(!SCALED, 'needs the scaled topology: E2E_TOPOLOGY=scaled (make e2e-scaled)');
test.afterEach(async () => { await restoreTopology(); });

test('the "Your session has ended" notice has no WCAG 2.1 A/AA violations', async ({ page, request }) => {
  test.setTimeout(60_000);
  await showSessionEnded(page, request);
  await waitForIslands(page);
  await expectNoWcagViolations(page, 'the guest page with "Your session has ended"');
});
