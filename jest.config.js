const ESM_PACKAGES = [
  '@nestjs',
  'jose',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  '@borewit',
  'uint8array-extras',
  'load-esm',
  'uid',
];

/** One jest config for the whole monorepo: tests live beside the code they test. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/bench', '<rootDir>/infra'],
  testMatch: ['**/src/**/*.spec.ts', '**/bench/**/*.spec.ts', '**/infra/**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // NestJS 12 ships ES modules only. Node 20 can require() them, but jest's module system cannot
    // before Node 24.9, so jest alone compiles those packages to CommonJS.
    '^.+/node_modules/.+\\.m?js$': [
      'babel-jest',
      {
        babelrc: false,
        configFile: false,
        plugins: ['babel-plugin-transform-import-meta', '@babel/plugin-transform-modules-commonjs'],
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleNameMapper: {
    '^@assent/(intent|catalog|cart|consent|payment|aftersales|embedded)$': '<rootDir>/services/$1/src',
    '^@assent/([a-z-]+)$': '<rootDir>/libs/$1/src',
    '^@assent/([a-z-]+)/([a-z-]+)$': '<rootDir>/libs/$1/src/$2',
  },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
};
