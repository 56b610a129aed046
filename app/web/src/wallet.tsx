// The dapp's one door to wallets: Wallet Standard only (no adapter library). `useMarketWallet`
// lists the registered wallets that can connect and speak Solana, connects one, and turns its
// account into the client layer's MarketWallet (client/wallet.ts) through @solana/react's signers:
//
// - a wallet with solana:signAndSendTransaction signs and broadcasts itself; one with only
//   solana:signTransaction signs and the dapp's RpcConnection broadcasts. Either way the dapp's
//   RPC confirms.
// - solana:signMessage signs the fixed message the buyer's X25519 key is derived from (once, kept
//   in memory only). A wallet without it (a Ledger behind an extension) cannot buy.
//
// Wallets advertise no localnet chain, so transactions are signed as solana:devnet and sent to the
// configured RPC, which is the local validator when the settings say localnet.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import {
  useSignMessage,
  useWalletAccountTransactionSendingSigner,
  useWalletAccountTransactionSigner,
} from "@solana/react";
import { getAddressEncoder, type TransactionSigner } from "@solana/kit";
import { useConnect, useWallets, type UiWallet, type UiWalletAccount } from "@wallet-standard/react";

import { messageSigningWallet, type MarketWallet } from "../../src/client/universal.js";
import type { MessageSigner } from "../../src/crypto/web.js";

export const SIGNING_CHAIN = "solana:devnet" as const;
const SIGN_AND_SEND = "solana:signAndSendTransaction";
const SIGN_TRANSACTION = "solana:signTransaction";
const SIGN_MESSAGE = "solana:signMessage";

export function isUsableWallet(wallet: UiWallet): boolean {
  return wallet.chains.includes(SIGNING_CHAIN) && wallet.features.includes("standard:connect");
}

export interface ConnectedAccount {
  wallet: UiWallet;
  account: UiWalletAccount;
}

export interface MarketWalletState {
  /** Registered wallets that support Solana (devnet chain) and standard:connect. */
  wallets: readonly UiWallet[];
  connected: ConnectedAccount | null;
  /** The connected account as the client layer's wallet; null until its signers are ready. */
  marketWallet: MarketWallet | null;
  /** Whether the account offers solana:signMessage, which buying needs. */
  canSignMessage: boolean;
  /** Whether the wallet broadcasts itself (solana:signAndSendTransaction). */
  sendsItself: boolean;
  /** Uses an account a wallet gave on connecting (ConnectButton). */
  select(wallet: UiWallet, account: UiWalletAccount): void;
  disconnect(): void;
}

const WalletContext = createContext<MarketWalletState | null>(null);

export function useMarketWallet(): MarketWalletState {
  const state = useContext(WalletContext);
  if (!state) throw new Error("useMarketWallet outside MarketWalletProvider");
  return state;
}

/** Connecting goes through @wallet-standard/react's useConnect, one hook per wallet button. */
export function ConnectButton({ wallet, onError }: { wallet: UiWallet; onError(error: unknown): void }) {
  const [isConnecting, connect] = useConnect(wallet);
  const { select } = useMarketWallet();
  return (
    <button
      type="button"
      disabled={isConnecting}
      onClick={async () => {
        try {
          const accounts = await connect();
          const account = accounts.find((a) => a.chains.includes(SIGNING_CHAIN)) ?? accounts[0];
          if (account) select(wallet, account);
          else onError(new Error(`${wallet.name} gave no account`));
        } catch (error) {
          onError(error);
        }
      }}
    >
      {wallet.icon ? <img src={wallet.icon} alt="" width={20} height={20} /> : null} {isConnecting ? `Connecting ${wallet.name}…` : `Connect ${wallet.name}`}
    </button>
  );
}

export function MarketWalletProvider({ children }: { children: ReactNode }) {
  const all = useWallets();
  const wallets = useMemo(() => all.filter(isUsableWallet), [all]);
  const [connected, setConnected] = useState<ConnectedAccount | null>(null);
  const [signer, setSigner] = useState<TransactionSigner | null>(null);
  const [messageSigner, setMessageSigner] = useState<MessageSigner | null>(null);

  // The wallet may disappear (extension disabled) or drop the account.
  useEffect(() => {
    if (connected && !wallets.some((w) => w.name === connected.wallet.name)) setConnected(null);
  }, [wallets, connected]);

  const account = connected?.account ?? null;
  const canSignMessage = account?.features.includes(SIGN_MESSAGE) ?? false;
  const sendsItself = account?.features.includes(SIGN_AND_SEND) ?? false;
  const canSign = sendsItself || (account?.features.includes(SIGN_TRANSACTION) ?? false);

  const marketWallet = useMemo(() => {
    if (!signer || !account) return null;
    // Without signMessage the wallet can still pay, but no licence key can be derived: the buy
    // page explains instead of asking.
    const messages: MessageSigner = messageSigner ?? {
      publicKey: new Uint8Array(getAddressEncoder().encode(signer.address)),
      signMessage: () => Promise.reject(new Error("this wallet cannot sign messages")),
    };
    return messageSigningWallet(signer, messages);
  }, [signer, messageSigner, account]);

  const select = useCallback((wallet: UiWallet, account: UiWalletAccount) => {
    setSigner(null);
    setMessageSigner(null);
    setConnected({ wallet, account });
  }, []);
  const disconnect = useCallback(() => {
    setConnected(null);
    setSigner(null);
    setMessageSigner(null);
  }, []);

  const state: MarketWalletState = { wallets, connected, marketWallet, canSignMessage, sendsItself, select, disconnect };
  const key = account ? `${connected!.wallet.name}:${account.address}` : "none";
  return (
    <WalletContext.Provider value={state}>
      {account && canSign ? (
        sendsItself ? (
          <SendingSignerBridge key={`send:${key}`} account={account} onSigner={setSigner} />
        ) : (
          <SigningSignerBridge key={`sign:${key}`} account={account} onSigner={setSigner} />
        )
      ) : null}
      {account && canSignMessage ? <MessageSignerBridge key={`msg:${key}`} account={account} onSigner={setMessageSigner} /> : null}
      {children}
    </WalletContext.Provider>
  );
}

// @solana/react's hooks throw for a feature the account lacks, so each lives in a component that
// is rendered only when the feature is there.

function SendingSignerBridge({ account, onSigner }: { account: UiWalletAccount; onSigner(s: TransactionSigner | null): void }) {
  const signer = useWalletAccountTransactionSendingSigner(account, SIGNING_CHAIN);
  useEffect(() => {
    onSigner(signer);
    return () => onSigner(null);
  }, [signer, onSigner]);
  return null;
}

function SigningSignerBridge({ account, onSigner }: { account: UiWalletAccount; onSigner(s: TransactionSigner | null): void }) {
  const signer = useWalletAccountTransactionSigner(account, SIGNING_CHAIN);
  useEffect(() => {
    onSigner(signer);
    return () => onSigner(null);
  }, [signer, onSigner]);
  return null;
}

function MessageSignerBridge({ account, onSigner }: { account: UiWalletAccount; onSigner(s: MessageSigner | null): void }) {
  const signMessage = useSignMessage(account);
  useEffect(() => {
    onSigner({
      publicKey: new Uint8Array(account.publicKey),
      signMessage: async (message) => (await signMessage({ message })).signature,
    });
    return () => onSigner(null);
  }, [signMessage, account, onSigner]);
  return null;
}
