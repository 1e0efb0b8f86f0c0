// Architecture rules checked by `npm run deps:check`.
// Paths are relative to the repository root; every rule is path-based so it keeps holding when
// folders move (a module's entities and repositories live in src/<module>/, the sandbox in packages/twilio-sandbox/).

/** A repository or entity file of a module: src/<module>/**\/*.repository.ts or *.entity.ts. */
const REPOSITORY = '^src/[^/]+/.*\\.repository\\.ts$';
const ENTITY = '^src/[^/]+/.*\\.entity\\.ts$';
/** Generated code (the SDK) is not ours to shape. */
const GENERATED = '^(packages/sdk/src|test/generated)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Folders of the service depend on each other one way only (e.g. calls -> twilio, never back).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-file-cycle',
      comment: 'No import cycle between files.',
      severity: 'error',
      from: { pathNot: GENERATED },
      to: { circular: true },
    },
    {
      name: 'sandbox-imports-service',
      comment: 'The Twilio sandbox is a package of its own: it imports nothing from the service (src/, test/ or the root package).',
      severity: 'error',
      from: { path: '^(packages/twilio-sandbox|src/sandbox)/' },
      to: {
        path: ['^(src|test|bench|migrations|dist)/', '^samsaek-phone-service(/|$)'],
        pathNot: '^src/sandbox/',
      },
    },
    {
      name: 'repository-outside-module',
      comment: "A repository is used only inside its own module's folder; other modules call that module's service.",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: REPOSITORY, pathNot: '^src/$1/' },
    },
    {
      name: 'entity-outside-module',
      comment: "An entity is used only inside its own module's folder, by src/db/ (the TypeORM entity list) and by src/bin/ (migrations).",
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: '^src/(db|bin)/' },
      to: { path: ENTITY, pathNot: '^src/$1/' },
    },
    {
      name: 'root-file-imports-repository-or-entity',
      comment: 'Files directly under src/ (app module, bootstrap) wire modules; they never reach into a repository or entity.',
      severity: 'error',
      from: { path: '^src/[^/]+$' },
      to: { path: [REPOSITORY, ENTITY] },
    },
    {
      name: 'service-imports-tests',
      comment: 'Production code never imports from test/.',
      severity: 'error',
      from: { path: '^(src|packages/[^/]+/src)/' },
      to: { path: '^(test|packages/[^/]+/test)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a typo or a missing dependency would otherwise hide from the rules above).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '^src/metadata\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.check.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@samsaek/source', 'import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mts', '.cts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
