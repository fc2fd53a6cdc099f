import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.fink/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Layers point down: sky and util -> storage -> pipeline and filters -> API (src/resolvers: resolvers, context,
  // errors, viewer, auth checker) -> server (HTTP, WebSocket, live feed) -> CLI. A lower layer importing a higher
  // one is refused here, not left to memory.
  layer(
    ['src/sky/**', 'src/util/**', 'src/export/**'],
    ['storage', 'pipeline', 'filters', 'resolvers', 'server', 'cli'],
  ),
  layer(['src/storage/**'], ['pipeline', 'filters', 'resolvers', 'server', 'cli']),
  layer(['src/pipeline/**', 'src/filters/**'], ['resolvers', 'server', 'cli']),
  layer(['src/resolvers/**'], ['server', 'cli']),
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);

/** Files under `files` may not import from src/<name>/ for any name in `above`. */
function layer(files, above) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: above.map((name) => ({
            group: [`**/${name}/*`, `**/${name}/**`],
            message: `layers point down: this layer does not import src/${name}`,
          })),
        },
      ],
    },
  };
}
