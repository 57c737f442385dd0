import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "types/",
      "coverage/",
      ".tools/",
      "circuits/build/",
      "circuits/artifacts/",
      // AssemblyScript (compiled by graph-cli, not tsc) and subgraph build outputs.
      "subgraph/src/",
      "test/fixtures/subgraph-host/src/",
      "subgraph/abis/",
      "subgraph/build/",
      "subgraph/generated/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "off",
    },
  },
  {
    // Chai assertions are expressions (`expect(x).to.be.true`).
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
);
