// The web dapp: a static single-page site. It imports the SDK, crypto and client layers from
// ../src through their universal entries (test/browser-safety.test.ts checks the import graph).
import { readFileSync } from "node:fs";
import { join } from "node:path";

import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

import { sitePolicy, withSitePolicy, type SiteEndpoints } from "../src/client/site-policy.js";

/** The built index.html carries the Content Security Policy of public/config.json's endpoints. */
function contentSecurityPolicy(): Plugin {
  return {
    name: "data-market-content-security-policy",
    apply: "build",
    transformIndexHtml(html) {
      const config = JSON.parse(readFileSync(join(import.meta.dirname, "public", "config.json"), "utf8")) as SiteEndpoints;
      return withSitePolicy(html, sitePolicy(config));
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [react(), contentSecurityPolicy()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: true },
  server: { port: 5173, strictPort: false },
});
