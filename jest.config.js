// Projects: unit (no services), integration (real Postgres/Redis/OpenBao), e2e (the deployed
// stack through the public API), browser (the pages in chromium), load (a flash crowd and a burst),
// soak (the reduced chaos soak). `npm test` (scripts/test.ts) runs them all; load and soak one file
// at a time after the others.
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }];
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // middy 5, jose 6 and marked ship ESM only: let swc turn them into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose|marked)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // ...and resolve middy's import-only exports map to its entry file.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  setupFiles: ['<rootDir>/test/support/aws-env.ts'],
};
module.exports = {
  // Project entries do not take testTimeout; set it here (unit tests finish far below it).
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'], testTimeout: 120000 },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], testTimeout: 180000 },
    // Crowds and bursts that fill the bounded runtime (test/support/crowd.ts; run one file at a time).
    { ...common, displayName: 'load', testMatch: ['<rootDir>/test/load/**/*.test.ts'] },
    // The reduced chaos soak (test/soak/engine.ts; `npm run soak` for the full one).
    { ...common, displayName: 'soak', testMatch: ['<rootDir>/test/soak/**/*.test.ts'] },
    // Real chromium (playwright-core) against the deployed stack; test files set their own timeout.
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] },
  ],
};
