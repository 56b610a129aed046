// A marketplace user: a transaction signer plus the X25519 key content keys are sealed to. The key
// comes from the wallet signing a fixed message, so a Phantom user and a CLI keypair holding the
// same account derive the same key (see crypto/buyer-key.ts).
import { ed25519 } from "@noble/curves/ed25519.js";
import type { TransactionSigner } from "@solana/kit";

import {
  createDelegateCard,
  createDelegateCardFromSolanaSecretKey,
  deriveEncryptionKeyPairFromSolanaSecretKey,
  deriveEncryptionKeyPairWithWallet,
  type MessageSigner,
  type X25519KeyPair,
} from "../crypto/web.js";
import type { LoadedWallet } from "./keypair.js";

export interface MarketWallet {
  readonly signer: TransactionSigner;
  /** The wallet's X25519 key pair (derived once, then cached). */
  encryptionKeyPair(): Promise<X25519KeyPair>;
  /**
   * The wallet's delegate card: its X25519 public key signed by the wallet, which an owner needs to
   * name this wallet delivery delegate (crypto/delegate-card.ts). Holds no secret.
   */
  delegateCard(): Promise<string>;
  /** The wallet's ed25519 signature of a message (a document it vouches for, e.g. a bill of data). */
  signMessage(message: Uint8Array): Promise<Uint8Array>;
}

/** A wallet from a local keypair file: the signature is computed locally. */
export function keypairWallet(wallet: LoadedWallet): MarketWallet {
  let cached: X25519KeyPair | null = null;
  return {
    signer: wallet.signer,
    async encryptionKeyPair() {
      cached ??= deriveEncryptionKeyPairFromSolanaSecretKey(wallet.secretKey);
      return cached;
    },
    async delegateCard() {
      return createDelegateCardFromSolanaSecretKey(wallet.secretKey);
    },
    async signMessage(message) {
      return ed25519.sign(message, wallet.secretKey.subarray(0, 32));
    },
  };
}

/** A browser wallet (Phantom): asks it to sign the key-derivation message once. */
export function messageSigningWallet(signer: TransactionSigner, messageSigner: MessageSigner): MarketWallet {
  let cached: Promise<X25519KeyPair> | null = null;
  const encryptionKeyPair = () => (cached ??= deriveEncryptionKeyPairWithWallet(messageSigner));
  return {
    signer,
    encryptionKeyPair,
    async delegateCard() {
      return createDelegateCard(messageSigner, (await encryptionKeyPair()).publicKey);
    },
    signMessage: (message) => messageSigner.signMessage(message),
  };
}
