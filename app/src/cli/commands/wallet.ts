// wallet new / show / card / airdrop.
import type { Command } from "commander";

import { createKeypairFile, formatAmount, formatSol, parseAmount, walletTokenBalance } from "../../client/index.js";
import { toHex } from "../../crypto/index.js";
import { parseAddress, type CliContext } from "../context.js";

export function registerWalletCommands(program: Command, context: () => CliContext): void {
  const wallet = program.command("wallet").description("your keypair, balances and encryption key");

  wallet
    .command("new")
    .description("create a keypair file (Solana CLI format, mode 0600) at --keypair's path")
    .action(async () => {
      const ctx = context();
      const created = await createKeypairFile(ctx.options.keypair);
      ctx.output.result(
        { address: created.signer.address, keypair: ctx.options.keypair },
        `created ${ctx.options.keypair} for ${created.signer.address}`,
      );
    });

  wallet
    .command("show")
    .description("address, SOL balance, payment-token balance (--mint) and the X25519 key buyers are sealed to")
    .option("--mint <address>")
    .action(async (options: { mint?: string }) => {
      const ctx = context();
      const { signer, encryptionKeyPair } = await ctx.wallet();
      const lamports = await ctx.connection.getLamports(signer.address);
      const encryptionKey = toHex((await encryptionKeyPair()).publicKey);
      const lines = [`address         ${signer.address}`, `SOL             ${formatSol(lamports)}`];
      let tokens: bigint | undefined;
      if (options.mint) {
        const mint = await ctx.mint(parseAddress(options.mint, "--mint"));
        tokens = await walletTokenBalance(ctx.connection, mint, signer.address);
        lines.push(`tokens          ${formatAmount(tokens, mint.decimals)} of ${mint.address}`);
      }
      lines.push(`encryption key  ${encryptionKey}`);
      ctx.output.result({ address: signer.address, lamports, tokens, encryptionKey }, lines);
    });

  wallet
    .command("card")
    .description("print your delegate card (your encryption key, signed by your wallet) for owners who name you delivery delegate")
    .action(async () => {
      const ctx = context();
      const wallet = await ctx.wallet();
      const card = await wallet.delegateCard();
      const encryptionKey = toHex((await wallet.encryptionKeyPair()).publicKey);
      ctx.output.result({ address: wallet.signer.address, encryptionKey, card }, [
        card,
        `  wallet          ${wallet.signer.address}`,
        `  encryption key  ${encryptionKey}`,
        "An owner names you delivery delegate with `data-market dataset publish ... --delegate <card>` or",
        "`data-market dataset delegate <dataset> <card>`; the card holds no secret.",
      ]);
    });

  wallet
    .command("airdrop")
    .description("request SOL from the cluster's faucet (local validator, devnet)")
    .argument("<sol>")
    .action(async (text: string) => {
      const ctx = context();
      const { signer } = await ctx.wallet();
      const lamports = parseAmount(text, 9);
      await ctx.connection.airdrop(signer.address, lamports);
      ctx.output.result({ address: signer.address, lamports }, `airdropped ${formatSol(lamports)} to ${signer.address}`);
    });
}
