// Entry point of the `data-market` command (app/bin/data-market).
import { runCli } from "./program.js";

const abort = new AbortController();
let interrupted = false;
process.on("SIGINT", () => {
  // The first Ctrl-C stops a daemon or a transfer cleanly (temporary files removed); a second one
  // exits at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  abort.abort();
});
process.on("SIGTERM", () => abort.abort());

process.exitCode = await runCli(process.argv.slice(2), {
  streams: { stdout: process.stdout, stderr: process.stderr },
  signal: abort.signal,
});
