import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App } from "./App.js";
import { loadBuildConfig, loadSavedSettings } from "./config.js";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
loadBuildConfig().then(
  (buildConfig) =>
    root.render(
      <StrictMode>
        <App buildConfig={buildConfig} initialConfig={loadSavedSettings(buildConfig) ?? buildConfig} />
      </StrictMode>,
    ),
  (error: unknown) =>
    root.render(<p role="alert">This site's configuration could not be read: {error instanceof Error ? error.message : String(error)}</p>),
);
