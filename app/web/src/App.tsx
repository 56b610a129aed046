// The dapp's shell: header (navigation, wallet, settings), the page for the address bar's hash,
// and a banner when the cluster is not usable.
import { useEffect, useState } from "react";
import { isAddress, type Address } from "@solana/kit";

import { clearSettings, saveSettings, type DappConfig } from "./config.js";
import { ErrorBoundary } from "./ErrorBoundary.js";
import { explainForPeople } from "./errors.js";
import { shortAddress } from "./format.js";
import { MarketProvider, useMarket } from "./market.js";
import { Browse } from "./pages/Browse.js";
import { DatasetPage } from "./pages/DatasetPage.js";
import { Licences } from "./pages/Licences.js";
import { LicencePage } from "./pages/LicencePage.js";
import { Operator } from "./pages/Operator.js";
import { Provenance } from "./pages/Provenance.js";
import { Owner } from "./pages/Owner.js";
import { Publish } from "./pages/Publish.js";
import { Settings } from "./Settings.js";
import { ConnectButton, MarketWalletProvider, useMarketWallet } from "./wallet.js";

function useHashRoute(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const listener = () => setHash(window.location.hash);
    window.addEventListener("hashchange", listener);
    return () => window.removeEventListener("hashchange", listener);
  }, []);
  return hash.replace(/^#/, "") || "/";
}

export function App({ buildConfig, initialConfig }: { buildConfig: DappConfig; initialConfig: DappConfig }) {
  const [config, setConfig] = useState(initialConfig);
  return (
    <MarketProvider config={config}>
      <MarketWalletProvider>
        <Shell
          buildConfig={buildConfig}
          onSave={(c) => {
            saveSettings(c);
            setConfig(c);
          }}
          onReset={() => {
            clearSettings();
            setConfig(buildConfig);
          }}
        />
      </MarketWalletProvider>
    </MarketProvider>
  );
}

function Shell({ buildConfig, onSave, onReset }: { buildConfig: DappConfig; onSave(c: DappConfig): void; onReset(): void }) {
  const route = useHashRoute();
  const { config, health } = useMarket();
  const [showSettings, setShowSettings] = useState(false);
  let page;
  const licenceMatch = /^\/licence\/([1-9A-HJ-NP-Za-km-z]+)$/.exec(route);
  const datasetMatch = /^\/dataset\/([1-9A-HJ-NP-Za-km-z]+)$/.exec(route);
  if (route === "/licences") page = <Licences />;
  else if (route === "/owner") page = <Owner />;
  else if (route === "/publish") page = <Publish />;
  else if (datasetMatch && isAddress(datasetMatch[1]!)) page = <DatasetPage address={datasetMatch[1] as Address} />;
  else if (route === "/") page = <Browse />;
  else if (licenceMatch && isAddress(licenceMatch[1]!)) page = <LicencePage address={licenceMatch[1] as Address} />;
  else if (route === "/provenance") page = <Provenance />;
  else if (route === "/operator") page = <Operator />;
  else page = <section><h1>Page not found</h1><p><a href="#/">Back to the datasets</a></p></section>;
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
      <header>
        <nav aria-label="Main">
          <a href="#/" aria-current={route === "/" ? "page" : undefined}>Datasets</a>
          <a href="#/licences" aria-current={route === "/licences" ? "page" : undefined}>My licences</a>
          <a href="#/provenance" aria-current={route === "/provenance" ? "page" : undefined}>Provenance</a>
          <a href="#/operator" aria-current={route === "/operator" ? "page" : undefined}>Operator</a>
          <a href="#/owner" aria-current={route === "/owner" ? "page" : undefined}>My datasets</a>
          <a href="#/publish" aria-current={route === "/publish" ? "page" : undefined}>Publish</a>
        </nav>
        <WalletPanel />
        <button type="button" aria-expanded={showSettings} aria-controls="settings-panel" onClick={() => setShowSettings(!showSettings)}>
          Settings ({config.cluster})
        </button>
      </header>
      {showSettings ? (
        <div id="settings-panel">
          <Settings key={JSON.stringify(config)} config={config} buildConfig={buildConfig} onSave={(c) => { onSave(c); setShowSettings(false); }} onReset={() => { onReset(); setShowSettings(false); }} />
        </div>
      ) : null}
      {health.status === "problem" ? <p role="alert" className="error banner">{health.message}</p> : null}
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={route}>{page}</ErrorBoundary>
      </main>
      <footer className="muted">Cluster {config.cluster} · {config.rpcUrl}</footer>
    </>
  );
}

function WalletPanel() {
  const { wallets, connected, disconnect } = useMarketWallet();
  const [error, setError] = useState<string | null>(null);
  if (connected) {
    return (
      <div className="wallet" aria-label="Wallet">
        <span>
          {connected.wallet.name}: <code title={connected.account.address}>{shortAddress(connected.account.address)}</code>
        </span>
        <button type="button" onClick={disconnect}>Disconnect</button>
      </div>
    );
  }
  return (
    <div className="wallet" role="group" aria-label="Wallet">
      {wallets.length === 0 ? <span>No Solana wallet found in this browser (install one, such as Phantom).</span> : null}
      {wallets.map((w) => (
        <ConnectButton key={w.name} wallet={w} onError={(e) => setError(explainForPeople(e).message)} />
      ))}
      {error ? <span role="alert" className="error">{error}</span> : null}
    </div>
  );
}
