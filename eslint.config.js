// Lint catches what the type checker does not: floating promises and import cycles.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

// Callers branch on an error's code, never on its text: messages are for people and change.
// Array.prototype.concat is slow in every process that loads @elastic/elasticsearch: its
// apache-arrow dependency sets Symbol.isConcatSpreadable on its vectors, which turns off V8's fast
// path for every concat in the process (75 times slower on a list of a thousand). Copy with
// slice, then push or splice; Buffer.concat is another function and stays.
const arrayConcat = [
  {
    selector: "CallExpression[callee.property.name='concat']:not([callee.object.name='Buffer'])",
    message: 'Array concat is slow once @elastic/elasticsearch is loaded (apache-arrow turns off its fast path); use slice then push or splice, or a spread.',
  },
];

const messageBranching = [
  {
    selector: "BinaryExpression[operator=/^[!=]==?$/] > MemberExpression[property.name='message']",
    message: 'Do not compare error messages; branch on a stable code (CalwatchError.code, a system error code).',
  },
  {
    selector: "CallExpression[callee.property.name=/^(includes|startsWith|endsWith|match|test|search)$/] MemberExpression[property.name='message']",
    message: 'Do not search error messages; branch on a stable code (CalwatchError.code, a system error code).',
  },
];

// The environment is read through `process.env` at an entry point only (see processEnvEntries).
const processEnvImports = ['process', 'node:process'].map((name) => ({
  name,
  importNames: ['env'],
  message: 'Read the environment as process.env at an entry point, then pass it down (docs/architecture.md, "Config").',
}));

// Packages import each other through their public entries only: the package itself, its
// test kits under `testing` (see testKits), and the processor's detection core alone
// (`@calwatch/processor/core`: offline commands that must not load the Kafka clients).
const deepImports = {
  group: ['@calwatch/*/*', '!@calwatch/*/testing', '!@calwatch/processor/core'],
  message: 'Import a calwatch package through its entry (@calwatch/<name>), not its files.',
};
// Test kits and in-memory doubles live in each package's src/testing/ and reach tests and
// benchmarks only: product code neither imports nor re-exports them.
const testKits = {
  group: ['@calwatch/*/testing', '**/testing', '**/testing/*', './testing', './testing/*'],
  message: 'Test kits (src/testing, @calwatch/<name>/testing) are for tests and benchmarks only.',
};
const PRODUCT_SOURCES = ['shared/*/src/**/*.ts', 'tools/*/src/**/*.ts', 'services/*/src/**/*.ts'];
const NOT_PRODUCT = ['**/*.test.ts', '**/src/testing/**'];
const PACKAGE_DIRS = ["shared/model", "shared/runtime", "shared/ingest", "shared/kafka", "shared/elasticsearch", "tools/simulator", "tools/stack", "services/collector", "services/processor", "services/indexer", "services/notifier", "services/cli"];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.build/**', 'deploy/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: {
      'import-x/resolver': { node: { extensions: ['.ts', '.js'] } },
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'test/**'],
    rules: { 'no-restricted-syntax': ['error', ...messageBranching, ...arrayConcat] },
  },
  {
    // Spreading an array into a call puts every element on the stack: it throws
    // RangeError past ~120k elements, the size of a real license server's table.
    // The detection core's spreads are over per-key lists capped by its config (500 licenses,
    // 64 HWIDs), and test kits build hand-sized data as tests do; everything that holds a
    // whole table or stream is covered.
    files: ['shared/*/src/**/*.ts', 'tools/*/src/**/*.ts', 'services/*/src/**/*.ts', 'bench/**/*.ts'],
    ignores: ['**/*.test.ts', '**/src/testing/**', 'services/processor/src/core/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name=/^(push|unshift|splice)$/] > SpreadElement",
          message: 'Spreading into push/unshift/splice overflows the stack on large arrays; loop instead.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name=/^(max|min)$/] > SpreadElement",
          message: 'Math.max/min(...array) overflows the stack on large arrays; loop or reduce instead.',
        },
        ...messageBranching,
        ...arrayConcat,
      ],
    },
  },
  {
    // Tests, benchmarks and the CLI's terminal output may print.
    files: ['**/*.test.ts', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: processEnvImports, patterns: [deepImports] }] },
  },
  {
    // Config is parsed once from an env object the entry point passes in, so nothing below
    // an entry point reads process.env. Entry points, where reading it is allowed:
    // - services/cli/src/main.ts: the one process entry (bin/calwatch); it hands io.env to every
    //   command and service (the services' main.ts files receive it, they do not read it);
    // - bench/** and test/**: benchmark and integration-test runners and their harness, each its
    //   own entry (vitest, bench/run.ts);
    // - *.test.ts: a test is an entry of its own and may pass the real environment on (PATH).
    files: ['**/*.ts'],
    ignores: ['services/cli/src/main.ts', 'bench/**', 'test/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only entry points read process.env; take an env object or a parsed config instead (docs/architecture.md, "Config").',
        },
      ],
    },
  },
  {
    files: PRODUCT_SOURCES,
    ignores: NOT_PRODUCT,
    rules: { 'no-restricted-imports': ['error', { paths: processEnvImports, patterns: [deepImports, testKits] }] },
  },
  // A package imports only what its package.json declares (tests may use the root's dev tools).
  ...PACKAGE_DIRS.map((dir) => ({
    files: [`${dir}/src/**/*.ts`],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [dir, '.'], devDependencies: ['**/*.test.ts', '**/src/testing/**'], optionalDependencies: false, peerDependencies: false },
      ],
    },
  })),
  {
    // The detection core is pure: the model, zod and its own files; no I/O, no adapters.
    files: ['services/processor/src/core/**/*.ts'],
    ignores: NOT_PRODUCT,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deepImports,
            testKits,
            { regex: '^(?!(@calwatch/model|zod)$)[^.]', message: 'The detection core imports only @calwatch/model, zod and its own modules.' },
          ],
        },
      ],
    },
  },
);
