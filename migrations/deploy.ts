// Run by `anchor migrate` after `anchor deploy`: creates the marketplace configuration, with the
// deploying wallet as operator. Idempotent: an existing configuration is left untouched.
// Settings (environment): TREASURY, ARBITER (default: the deploying wallet), PROTOCOL_FEE_BPS
// (default 250 = 2.5%, hard cap 1,000), MAX_REFERRAL_FEE_BPS (default 1,000, hard cap 2,000).
import * as anchor from "@anchor-lang/core";

const idl = require("../idl/data_market.json");

module.exports = async function (provider: anchor.AnchorProvider) {
  anchor.setProvider(provider);
  const program = new anchor.Program(idl, provider);
  const [marketplace] = anchor.web3.PublicKey.findProgramAddressSync(
    [Buffer.from("marketplace")],
    program.programId,
  );
  if (await provider.connection.getAccountInfo(marketplace)) {
    console.log(`marketplace ${marketplace.toBase58()} already initialised`);
    return;
  }
  const operator = provider.wallet.publicKey;
  const key = (name: string) => new anchor.web3.PublicKey(process.env[name] ?? operator.toBase58());
  const args = {
    treasury: key("TREASURY"),
    arbiter: key("ARBITER"),
    protocolFeeBps: Number(process.env.PROTOCOL_FEE_BPS ?? 250),
    maxReferralFeeBps: Number(process.env.MAX_REFERRAL_FEE_BPS ?? 1000),
  };
  const signature = await program.methods
    .initializeMarketplace(args)
    .accounts({ authority: operator })
    .rpc();
  console.log(`marketplace ${marketplace.toBase58()} initialised by ${operator.toBase58()}: ${signature}`);
};
