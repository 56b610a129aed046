// Entry point of the `data-market` command (app/bin/data-market).
import { runCli } from "./program.js";

const abort = new AbortController();
let interrupted = false;
process.on("SIGINT", () => {
  // First Ctrl-C stops a daemon cleanly; a second one exits at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  abort.abort();
});
process.on("SIGTERM", () => abort.abort());

process.exitCode = await runCli(process.argv.slice(2), {
  streams: { stdout: process.stdout, stderr: process.stderr },
  signal: abort.signal,
});
