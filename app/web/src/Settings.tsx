// Where the dapp points, changeable on the page: presets for localnet and devnet, or any RPC URL
// and program id. Kept in localStorage (endpoints only).
import { useId, useState, type FormEvent } from "react";

import { PRESETS, blockedEndpoints, type DappConfig } from "./config.js";

export function Settings({ config, buildConfig, onSave, onReset }: {
  config: DappConfig;
  buildConfig: DappConfig;
  onSave(config: DappConfig): void;
  onReset(): void;
}) {
  const [draft, setDraft] = useState(config);
  const [blocked, setBlocked] = useState<string[]>([]);
  const ids = useId();
  const set = (name: Exclude<keyof DappConfig, "tokens">) => ({
    id: `${ids}-${name}`,
    value: draft[name] ?? "",
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value === "" && name !== "rpcUrl" && name !== "programId" ? null : e.target.value }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const refused = blockedEndpoints(draft);
    setBlocked(refused);
    if (refused.length === 0) onSave(draft);
  };
  return (
    <form className="settings" onSubmit={submit} aria-label="Cluster settings">
      <fieldset>
        <legend>Cluster</legend>
        {(["localnet", "devnet"] as const).map((name) => (
          <button key={name} type="button" onClick={() => setDraft({ ...draft, ...PRESETS[name], programId: draft.programId || buildConfig.programId })}>
            Use {name}
          </button>
        ))}
        <label htmlFor={`${ids}-cluster`}>Cluster name</label>
        <input {...set("cluster")} />
        <label htmlFor={`${ids}-rpcUrl`}>RPC URL</label>
        <input type="url" required {...set("rpcUrl")} />
        <label htmlFor={`${ids}-wsUrl`}>WebSocket URL (optional)</label>
        <input {...set("wsUrl")} />
        <label htmlFor={`${ids}-programId`}>Program id</label>
        <input required {...set("programId")} />
        <label htmlFor={`${ids}-indexerUrl`}>Indexer URL (optional: search through it)</label>
        <input {...set("indexerUrl")} />
        <label htmlFor={`${ids}-ipfsGateway`}>IPFS gateway (optional)</label>
        <input {...set("ipfsGateway")} />
        <label htmlFor={`${ids}-ipfsApi`}>IPFS API (optional)</label>
        <input {...set("ipfsApi")} />
      </fieldset>
      {blocked.length > 0 ? (
        <p role="alert" className="error">
          This site's security policy lets the page connect only to the endpoints its config.json names, and not to{" "}
          {blocked.join(", ")}. Choose one it allows, or run your own copy of the dapp with that endpoint in its config.json
          (<code>rpcUrl</code>, <code>indexerUrl</code>, <code>ipfsGateway</code>, <code>ipfsApi</code> or <code>allowedEndpoints</code>).
        </p>
      ) : null}
      <button type="submit">Save settings</button>
      <button type="button" onClick={onReset}>Back to this site's defaults</button>
    </form>
  );
}
