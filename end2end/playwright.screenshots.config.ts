// `npm run screenshots`: full-page PNGs of the main screens into screenshots/
// (gitignored). Same servers and browser as the suite; not part of `npm test`.
import { defineConfig } from '@playwright/test';

import base from './playwright.config';

export default defineConfig(base, {
  testMatch: '**/*.shot.ts',
  reporter: [['list']],
});
