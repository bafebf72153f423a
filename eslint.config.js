// @ts-check
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "require-yield": "off",
      // `declare namespace X { type ... }` names a module's types, as the Effect packages do.
      "@typescript-eslint/no-namespace": ["error", { allowDeclarations: true }]
    }
  },
  { files: ["bin/**/*.js"], languageOptions: { globals: { process: "readonly" } } }
)
