import { defineConfig } from 'vitest/config'

// Tests import the workspace packages by name; the `@oauth-m2m/source` export condition points
// those imports at each package's TypeScript sources, so a test never runs against a stale build.
export default defineConfig({
  resolve: { conditions: ['@oauth-m2m/source'] },
  ssr: { resolve: { conditions: ['@oauth-m2m/source'] } },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'test/e2e/**/*.test.ts',
      'test/tooling/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
})
