// The web dapp: a static single-page site. It imports the SDK, crypto and client layers from
// ../src through their universal entries (test/browser-safety.test.ts checks the import graph).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: true },
  server: { port: 5173, strictPort: false },
});
