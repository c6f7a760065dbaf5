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

/**
 * `import.meta` in those ES modules, for CommonJS: `.url` is the module's file URL and `.resolve` is
 * `require.resolve`. (babel-plugin-transform-import-meta writes `require('url')...`, which breaks
 * modules that declare their own `const require = createRequire(import.meta.url)`.)
 */
function importMeta({ types: t }) {
  return {
    visitor: {
      MetaProperty(path) {
        if (path.node.meta.name !== 'import') return;
        const member = path.parentPath;
        const fileUrl = t.binaryExpression('+', t.stringLiteral('file://'), t.identifier('__filename'));
        if (member.isMemberExpression() && t.isIdentifier(member.node.property, { name: 'url' })) {
          member.replaceWith(fileUrl);
        } else if (member.isMemberExpression() && t.isIdentifier(member.node.property, { name: 'resolve' })) {
          member.replaceWith(t.memberExpression(t.identifier('require'), t.identifier('resolve')));
        } else {
          path.replaceWith(t.objectExpression([t.objectProperty(t.identifier('url'), fileUrl)]));
        }
      },
    },
  };
}

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
        plugins: [importMeta, '@babel/plugin-transform-modules-commonjs'],
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
