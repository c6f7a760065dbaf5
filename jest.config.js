/** One jest config for the whole monorepo: tests live beside the code they test. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/bench'],
  testMatch: ['**/src/**/*.spec.ts', '**/bench/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: { '^@assent/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};
