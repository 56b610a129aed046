// Wallets as the Solana CLI stores them: a JSON array of the 64 secret-key bytes (seed then public
// key). The bytes are read into a non-extractable signer and never printed or logged.
import { randomBytes } from "node:crypto";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

import {
  createKeyPairSignerFromBytes,
  createKeyPairSignerFromPrivateKeyBytes,
  getAddressEncoder,
  type KeyPairSigner,
} from "@solana/kit";

export const DEFAULT_KEYPAIR_PATH = join(homedir(), ".config", "solana", "id.json");

export class KeypairFileError extends Error {
  override name = "KeypairFileError";
}

/** The wallet in a Solana CLI keypair file, plus its secret bytes for deriving the buyer key. */
export interface LoadedWallet {
  signer: KeyPairSigner;
  /** The 64 secret-key bytes; kept in memory only to derive the X25519 buyer key. */
  secretKey: Uint8Array;
}

export async function loadKeypairFile(path: string): Promise<LoadedWallet> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeypairFileError(
      code === "ENOENT"
        ? `no keypair file at ${path} (create one with \`solana-keygen new\` or pass --keypair)`
        : `cannot read keypair file ${path}: ${code ?? String(error)}`,
    );
  }
  let bytes: Uint8Array;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length !== 64 || !parsed.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
      throw new Error("shape");
    }
    bytes = Uint8Array.from(parsed as number[]);
  } catch {
    // Never echo the file's content: it is a secret key.
    throw new KeypairFileError(`${path} is not a Solana keypair file (expected a JSON array of 64 numbers)`);
  }
  try {
    return { signer: await createKeyPairSignerFromBytes(bytes), secretKey: bytes };
  } catch {
    throw new KeypairFileError(`${path}: its public key does not match its secret key`);
  }
}

/** Writes a new random keypair file (mode 0600), in the Solana CLI format. */
export async function createKeypairFile(path: string): Promise<LoadedWallet> {
  const seed = new Uint8Array(randomBytes(32));
  const signer = await createKeyPairSignerFromPrivateKeyBytes(seed);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(getAddressEncoder().encode(signer.address), 32);
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, JSON.stringify([...secretKey]), { mode: 0o600, flag: "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KeypairFileError(
      code === "EEXIST" ? `${path} already exists; a keypair file is never overwritten` : `cannot write ${path}: ${code ?? String(error)}`,
    );
  }
  return { signer: await createKeyPairSignerFromBytes(secretKey), secretKey };
}
