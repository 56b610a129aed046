// Turning a failed transaction into a human message. The best source is the transaction's logs: they
// name the program that failed first (the data market program or one it called) and, for Anchor
// errors, the error's name, number, message and the account involved. Without logs, the error
// object's custom code is classified by range: 6000 and up are this program's errors (from the IDL),
// 100 to 5999 are Anchor's framework errors.
import {
  isSolanaError,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__INSTRUCTION_ERROR__INSUFFICIENT_FUNDS,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_RENT,
  type Address,
} from "@solana/kit";

import { DATA_MARKET_PROGRAM_ERRORS, type DataMarketProgramError } from "../generated/programErrors.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
  DATA_MARKET_PROGRAM_ADDRESS,
  SYSTEM_PROGRAM_ADDRESS,
  TOKEN_2022_PROGRAM_ADDRESS,
  TOKEN_PROGRAM_ADDRESS,
} from "./constants.js";

export type { DataMarketProgramError };
export { DATA_MARKET_PROGRAM_ERRORS };

export type ErrorOrigin =
  /** A MarketError of the data market program (code 6000 and up). */
  | "data-market"
  /** An Anchor framework error raised in the data market program (account constraints and the like). */
  | "anchor"
  /** SPL Token or Token-2022 (usually called by the data market program). */
  | "token"
  | "associated-token"
  | "system"
  /** The runtime (missing signature, compute budget, insufficient lamports for fees...). */
  | "runtime"
  | "unknown";

export interface ExplainedError {
  origin: ErrorOrigin;
  /** The custom error code, when there is one. */
  code?: number;
  /** The error's name in its program, e.g. "PriceAboveMax" or "ConstraintHasOne". */
  name?: string;
  /** A message for people. */
  message: string;
  /** The program that failed first. */
  programAddress?: Address;
  /** The top-level instruction that failed. */
  instructionIndex?: number;
  /** The account named by an Anchor constraint error. */
  account?: string;
}

// ---------------------------------------------------------------------------------------------
// Tables.

const byCode = new Map(DATA_MARKET_PROGRAM_ERRORS.map((e) => [e.code, e]));
const byName = new Map(DATA_MARKET_PROGRAM_ERRORS.map((e) => [e.name, e]));

export function dataMarketErrorByCode(code: number): DataMarketProgramError | undefined {
  return byCode.get(code);
}

export function dataMarketErrorByName(name: string): DataMarketProgramError | undefined {
  return byName.get(name);
}

/** Anchor 1.2.2 framework errors (anchor-lang `ErrorCode`): code, name, message. */
const ANCHOR_ERRORS: ReadonlyMap<number, readonly [string, string]> = new Map(
  (
    [
  [100, "InstructionMissing", "Instruction discriminator not provided"],
  [101, "InstructionFallbackNotFound", "Fallback functions are not supported"],
  [102, "InstructionDidNotDeserialize", "The program could not deserialize the given instruction"],
  [103, "InstructionDidNotSerialize", "The program could not serialize the given instruction"],
  [1000, "IdlInstructionStub", "The program was compiled without idl instructions"],
  [1001, "IdlInstructionInvalidProgram", "Invalid program given to the IDL instruction"],
  [1002, "IdlAccountNotEmpty", "IDL account must be empty in order to resize, try closing first"],
  [1500, "EventInstructionStub", "The program was compiled without `event-cpi` feature"],
  [2000, "ConstraintMut", "A mut constraint was violated"],
  [2001, "ConstraintHasOne", "A has one constraint was violated"],
  [2002, "ConstraintSigner", "A signer constraint was violated"],
  [2003, "ConstraintRaw", "A raw constraint was violated"],
  [2004, "ConstraintOwner", "An owner constraint was violated"],
  [2005, "ConstraintRentExempt", "A rent exemption constraint was violated"],
  [2006, "ConstraintSeeds", "A seeds constraint was violated"],
  [2007, "ConstraintExecutable", "An executable constraint was violated"],
  [2008, "ConstraintState", "Deprecated Error, feel free to replace with something else"],
  [2009, "ConstraintAssociated", "An associated constraint was violated"],
  [2010, "ConstraintAssociatedInit", "An associated init constraint was violated"],
  [2011, "ConstraintClose", "A close constraint was violated"],
  [2012, "ConstraintAddress", "An address constraint was violated"],
  [2013, "ConstraintZero", "Expected zero account discriminant"],
  [2014, "ConstraintTokenMint", "A token mint constraint was violated"],
  [2015, "ConstraintTokenOwner", "A token owner constraint was violated"],
  [2016, "ConstraintMintMintAuthority", "A mint mint authority constraint was violated"],
  [2017, "ConstraintMintFreezeAuthority", "A mint freeze authority constraint was violated"],
  [2018, "ConstraintMintDecimals", "A mint decimals constraint was violated"],
  [2019, "ConstraintSpace", "A space constraint was violated"],
  [2020, "ConstraintAccountIsNone", "A required account for the constraint is None"],
  [2021, "ConstraintTokenTokenProgram", "A token account token program constraint was violated"],
  [2022, "ConstraintMintTokenProgram", "A mint token program constraint was violated"],
  [2023, "ConstraintAssociatedTokenTokenProgram", "An associated token account token program constraint was violated"],
  [2024, "ConstraintMintGroupPointerExtension", "A group pointer extension constraint was violated"],
  [2025, "ConstraintMintGroupPointerExtensionAuthority", "A group pointer extension authority constraint was violated"],
  [2026, "ConstraintMintGroupPointerExtensionGroupAddress", "A group pointer extension group address constraint was violated"],
  [2027, "ConstraintMintGroupMemberPointerExtension", "A group member pointer extension constraint was violated"],
  [2028, "ConstraintMintGroupMemberPointerExtensionAuthority", "A group member pointer extension authority constraint was violated"],
  [2029, "ConstraintMintGroupMemberPointerExtensionMemberAddress", "A group member pointer extension group address constraint was violated"],
  [2030, "ConstraintMintMetadataPointerExtension", "A metadata pointer extension constraint was violated"],
  [2031, "ConstraintMintMetadataPointerExtensionAuthority", "A metadata pointer extension authority constraint was violated"],
  [2032, "ConstraintMintMetadataPointerExtensionMetadataAddress", "A metadata pointer extension metadata address constraint was violated"],
  [2033, "ConstraintMintCloseAuthorityExtension", "A close authority constraint was violated"],
  [2034, "ConstraintMintCloseAuthorityExtensionAuthority", "A close authority extension authority constraint was violated"],
  [2035, "ConstraintMintPermanentDelegateExtension", "A permanent delegate extension constraint was violated"],
  [2036, "ConstraintMintPermanentDelegateExtensionDelegate", "A permanent delegate extension delegate constraint was violated"],
  [2037, "ConstraintMintTransferHookExtension", "A transfer hook extension constraint was violated"],
  [2038, "ConstraintMintTransferHookExtensionAuthority", "A transfer hook extension authority constraint was violated"],
  [2039, "ConstraintMintTransferHookExtensionProgramId", "A transfer hook extension transfer hook program id constraint was violated"],
  [2040, "ConstraintDuplicateMutableAccount", "A duplicate mutable account constraint was violated"],
  [2041, "AccountAlreadyMigrated", "Account is already migrated"],
  [2042, "AccountNotMigrated", "Account must be migrated before exiting"],
  [2043, "ConstraintMintPausableExtension", "A pausable extension constraint was violated"],
  [2044, "ConstraintMintPausableAuthority", "A pausable extension authority constraint was violated"],
  [2500, "RequireViolated", "A require expression was violated"],
  [2501, "RequireEqViolated", "A require_eq expression was violated"],
  [2502, "RequireKeysEqViolated", "A require_keys_eq expression was violated"],
  [2503, "RequireNeqViolated", "A require_neq expression was violated"],
  [2504, "RequireKeysNeqViolated", "A require_keys_neq expression was violated"],
  [2505, "RequireGtViolated", "A require_gt expression was violated"],
  [2506, "RequireGteViolated", "A require_gte expression was violated"],
  [3000, "AccountDiscriminatorAlreadySet", "The account discriminator was already set on this account"],
  [3001, "AccountDiscriminatorNotFound", "No discriminator was found on the account"],
  [3002, "AccountDiscriminatorMismatch", "Account discriminator did not match what was expected"],
  [3003, "AccountDidNotDeserialize", "Failed to deserialize the account"],
  [3004, "AccountDidNotSerialize", "Failed to serialize the account"],
  [3005, "AccountNotEnoughKeys", "Not enough account keys given to the instruction"],
  [3006, "AccountNotMutable", "The given account is not mutable"],
  [3007, "AccountOwnedByWrongProgram", "The given account is owned by a different program than expected"],
  [3008, "InvalidProgramId", "Program ID was not as expected"],
  [3009, "InvalidProgramExecutable", "Program account is not executable"],
  [3010, "AccountNotSigner", "The given account did not sign"],
  [3011, "AccountNotSystemOwned", "The given account is not owned by the system program"],
  [3012, "AccountNotInitialized", "The program expected this account to be already initialized"],
  [3013, "AccountNotProgramData", "The given account is not a program data account"],
  [3014, "AccountNotAssociatedTokenAccount", "The given account is not the associated token account"],
  [3015, "AccountSysvarMismatch", "The given public key does not match the required sysvar"],
  [3016, "AccountReallocExceedsLimit", "The account reallocation exceeds the MAX_PERMITTED_DATA_INCREASE limit"],
  [3017, "AccountDuplicateReallocs", "The account was duplicated for more than one reallocation"],
  [4100, "DeclaredProgramIdMismatch", "The declared program id does not match the actual program id"],
  [4101, "TryingToInitPayerAsProgramAccount", "You cannot/should not initialize the payer account as a program account"],
  [4102, "InvalidNumericConversion", "Error during numeric conversion"],
  [5000, "Deprecated", "The API being used is deprecated and should no longer be used"],
    ] as const
  ).map(([code, name, message]) => [code, [name, message] as const]),
);

/** SPL Token errors (0 to 19, shared by Token-2022) and the Token-2022 ones a client may meet. */
const TOKEN_ERRORS: ReadonlyMap<number, readonly [string, string]> = new Map(
  (
    [
  [0, "NotRentExempt", "Lamport balance below rent-exempt threshold"],
  [1, "InsufficientFunds", "Insufficient funds"],
  [2, "InvalidMint", "Invalid Mint"],
  [3, "MintMismatch", "Account not associated with this Mint"],
  [4, "OwnerMismatch", "Owner does not match"],
  [5, "FixedSupply", "Fixed supply"],
  [6, "AlreadyInUse", "Already in use"],
  [7, "InvalidNumberOfProvidedSigners", "Invalid number of provided signers"],
  [8, "InvalidNumberOfRequiredSigners", "Invalid number of required signers"],
  [9, "UninitializedState", "State is uninitialized"],
  [10, "NativeNotSupported", "Instruction does not support native tokens"],
  [11, "NonNativeHasBalance", "Non-native account can only be closed if its balance is zero"],
  [12, "InvalidInstruction", "Invalid instruction"],
  [13, "InvalidState", "State is invalid for requested operation"],
  [14, "Overflow", "Operation overflowed"],
  [15, "AuthorityTypeNotSupported", "Account does not support specified authority type"],
  [16, "MintCannotFreeze", "This token mint cannot freeze accounts"],
  [17, "AccountFrozen", "Account is frozen"],
  [18, "MintDecimalsMismatch", "The provided decimals value different from the Mint decimals"],
  [19, "NonNativeNotSupported", "Instruction does not support non-native tokens"],
  [20, "ExtensionTypeMismatch", "Extension type does not match already existing extensions"],
  [21, "ExtensionBaseMismatch", "Extension does not match the base type provided"],
  [22, "ExtensionAlreadyInitialized", "Extension already initialized on this account"],
  [28, "MintHasSupply", "Mint has non-zero supply. Burn all tokens before closing the mint"],
  [29, "NoAuthorityExists", "No authority exists to perform the desired operation"],
  [31, "MintRequiredForTransfer", "Mint required for this account to transfer tokens, use `transfer_checked` or `transfer_checked_with_fee`"],
  [34, "ImmutableOwner", "The owner authority cannot be changed"],
  [36, "NoMemo", "No memo in previous instruction; required for recipient to receive a transfer"],
  [37, "NonTransferable", "Transfer is disabled for this mint"],
  [38, "NonTransferableNeedsImmutableOwnership", "Non-transferable tokens can't be minted to an account without immutable ownership"],
  [48, "ExtensionNotFound", "Extension not found in account data"],
  [51, "InvalidExtensionCombination", "A mint or an account is initialized to an invalid combination of extensions"],
  [67, "MintPaused", "Transferring, minting, and burning is paused on this mint"],
    ] as const
  ).map(([code, name, message]) => [code, [name, message] as const]),
);

const ASSOCIATED_TOKEN_ERRORS: ReadonlyMap<number, readonly [string, string]> = new Map([
  [0, ["InvalidOwner", "Associated token account owner does not match address derivation"]],
]);

const SYSTEM_ERRORS: ReadonlyMap<number, readonly [string, string]> = new Map([
  [0, ["AccountAlreadyInUse", "An account with the same address already exists"]],
  [1, ["ResultWithNegativeLamports", "Account does not have enough SOL to perform the operation"]],
  [2, ["InvalidProgramId", "Cannot assign account to this program id"]],
  [3, ["InvalidAccountDataLength", "Cannot allocate account data of this length"]],
  [4, ["MaxSeedLengthExceeded", "Length of requested seed is too long"]],
  [5, ["AddressWithSeedMismatch", "Provided address does not match addressed derived from seed"]],
  [6, ["NonceNoRecentBlockhashes", "Advancing stored nonce requires a populated RecentBlockhashes sysvar"]],
  [7, ["NonceBlockhashNotExpired", "Stored nonce is still in recent_blockhashes"]],
  [8, ["NonceUnexpectedBlockhashValue", "Specified nonce does not match stored nonce"]],
]);

export function anchorErrorByCode(code: number): { code: number; name: string; message: string } | undefined {
  const entry = ANCHOR_ERRORS.get(code);
  return entry && { code, name: entry[0], message: entry[1] };
}

function originOfProgram(program: Address | undefined): ErrorOrigin {
  switch (program) {
    case DATA_MARKET_PROGRAM_ADDRESS:
      return "data-market";
    case TOKEN_PROGRAM_ADDRESS:
    case TOKEN_2022_PROGRAM_ADDRESS:
      return "token";
    case ASSOCIATED_TOKEN_PROGRAM_ADDRESS:
      return "associated-token";
    case SYSTEM_PROGRAM_ADDRESS:
      return "system";
    default:
      return "unknown";
  }
}

/** Explains a custom error code, given the program that raised it when known. */
export function explainCustomCode(code: number, program?: Address): ExplainedError {
  const origin = originOfProgram(program);
  const base = { code, ...(program ? { programAddress: program } : {}) };
  const fromTable = (table: ReadonlyMap<number, readonly [string, string]>, o: ErrorOrigin, label: string) => {
    const entry = table.get(code);
    return entry
      ? { ...base, origin: o, name: entry[0], message: entry[1] }
      : { ...base, origin: o, message: `${label} error ${code}` };
  };
  if (origin === "token") return fromTable(TOKEN_ERRORS, "token", "Token program");
  if (origin === "associated-token") return fromTable(ASSOCIATED_TOKEN_ERRORS, "associated-token", "Associated Token program");
  if (origin === "system") return fromTable(SYSTEM_ERRORS, "system", "System program");
  if (origin === "data-market" || program === undefined) {
    const own = byCode.get(code);
    if (own) return { ...base, origin: "data-market", name: own.name, message: own.message };
    const anchor = ANCHOR_ERRORS.get(code);
    if (anchor) return { ...base, origin: "anchor", name: anchor[0], message: anchor[1] };
    if (program === undefined) {
      // A low code reported at a data market instruction usually comes from a token program it called.
      const token = TOKEN_ERRORS.get(code);
      const hint = token ? ` (as a token program error: ${token[1]})` : "";
      return { ...base, origin: "unknown", message: `Custom program error ${code}${hint}` };
    }
  }
  return { ...base, origin: "unknown", message: `Custom program error ${code} from ${program}` };
}

// ---------------------------------------------------------------------------------------------
// Logs.

const INVOKE = /^Program (\w+) invoke \[\d+\]$/;
const SUCCESS = /^Program (\w+) success$/;
const FAILED = /^Program (\w+) failed: (.*)$/;
const CUSTOM = /^custom program error: 0x([0-9a-fA-F]+)$/;
const ANCHOR_ERROR =
  /^Program log: AnchorError (?:thrown in \S+|caused by account: (\S+)|occurred)\. Error Code: (\w+)\. Error Number: (\d+)\. Error Message: (.*?)\.?$/;

interface AnchorLog {
  program: Address | undefined;
  account?: string;
  name: string;
  code: number;
  message: string;
}

/**
 * Explains a failure from a transaction's logs: the first program that failed, and the Anchor error
 * it logged if any. Null when the logs show no failure.
 */
export function explainLogs(logs: readonly string[]): ExplainedError | null {
  const stack: Address[] = [];
  const anchorLogs: AnchorLog[] = [];
  let failure: { program: Address; reason: string } | null = null;
  let lastLog: string | undefined;
  for (const line of logs) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(INVOKE))) {
      stack.push(m[1] as Address);
    } else if ((m = line.match(SUCCESS))) {
      stack.pop();
    } else if ((m = line.match(FAILED))) {
      failure ??= { program: m[1] as Address, reason: m[2]! };
      stack.pop();
    } else if ((m = line.match(ANCHOR_ERROR))) {
      anchorLogs.push({
        program: stack.at(-1),
        ...(m[1] ? { account: m[1] } : {}),
        name: m[2]!,
        code: Number(m[3]),
        message: m[4]!,
      });
    } else if (line.startsWith("Program log: ")) {
      lastLog = line.slice("Program log: ".length);
    } else if (!line.startsWith("Program ")) {
      // the runtime's and builtin programs' own wording, e.g. "Transfer: insufficient lamports ..."
      lastLog = line;
    }
  }
  if (!failure) return null;

  const anchor = anchorLogs.find((a) => a.program === failure.program);
  if (anchor) {
    const own = failure.program === DATA_MARKET_PROGRAM_ADDRESS && anchor.code >= 6000;
    const message = anchor.account ? `${anchor.message} (account: ${anchor.account})` : anchor.message;
    return {
      origin: own ? "data-market" : failure.program === DATA_MARKET_PROGRAM_ADDRESS ? "anchor" : "unknown",
      code: anchor.code,
      name: anchor.name,
      message: own ? (byCode.get(anchor.code)?.message ?? message) : message,
      programAddress: failure.program,
      ...(anchor.account ? { account: anchor.account } : {}),
    };
  }
  const custom = failure.reason.match(CUSTOM);
  if (custom) {
    const explained = explainCustomCode(parseInt(custom[1]!, 16), failure.program);
    // The token programs log their own wording just before failing ("Error: insufficient funds").
    if (explained.origin === "token" && lastLog?.startsWith("Error: ")) {
      explained.message = `${explained.message} (${lastLog.slice("Error: ".length)})`;
    } else if (explained.origin === "system" && lastLog) {
      // e.g. "Allocate: account Address { ... } already in use"
      explained.message = `${explained.message} (${lastLog})`;
    }
    return explained;
  }
  const origin = originOfProgram(failure.program);
  const detail = lastLog && origin === "system" ? `: ${lastLog}` : "";
  return {
    origin: origin === "unknown" || origin === "data-market" ? "runtime" : origin,
    message: `${failure.reason}${detail}`,
    programAddress: failure.program,
  };
}

// ---------------------------------------------------------------------------------------------
// Error objects.

interface Found {
  logs?: readonly string[];
  custom?: { code: number; index?: number };
  text?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Looks through the shapes a failure comes in: kit's SolanaError (and its causes), the RPC's JSON
 * transaction error, and objects with `err()` / `meta().logs()` accessors (local validators). */
/**
 * The runtime's own words for the transaction errors people meet most: kit's production builds
 * (the web dapp's bundle) carry only "Solana error #<code>" in `message`.
 */
const RUNTIME_MESSAGES: Record<number, string> = {
  [SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND]: "Attempt to debit an account but found no record of a prior credit (the fee payer holds no SOL)",
  [SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE]: "Insufficient funds for fee",
  [SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_RENT]: "Insufficient funds for rent",
  [SOLANA_ERROR__INSTRUCTION_ERROR__INSUFFICIENT_FUNDS]: "Insufficient lamports for the instruction",
  [SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND]: "Blockhash not found (the transaction's blockhash expired or is unknown to this node)",
};

function inspect(error: unknown, found: Found, depth = 0): void {
  if (depth > 8 || error === null || error === undefined) return;
  if (isSolanaError(error)) {
    if (isSolanaError(error, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) {
      const logs = error.context.logs;
      if (logs && !found.logs) found.logs = logs;
    }
    if (isSolanaError(error, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) {
      found.custom ??= { code: Number(error.context.code), index: Number(error.context.index) };
    }
    found.text ??= RUNTIME_MESSAGES[error.context.__code] ?? error.message;
    inspect(error.cause, found, depth + 1);
    return;
  }
  if (Array.isArray(error) && error.every((l) => typeof l === "string")) {
    found.logs ??= error as string[];
    return;
  }
  if (!isRecord(error)) {
    if (typeof error === "string") found.text ??= error;
    return;
  }
  // RPC JSON: { InstructionError: [index, { Custom: code }] }
  const instructionError = error["InstructionError"];
  if (Array.isArray(instructionError) && instructionError.length === 2) {
    const [index, detail] = instructionError as [unknown, unknown];
    if (isRecord(detail) && typeof detail["Custom"] === "number") {
      found.custom ??= { code: detail["Custom"], index: Number(index) };
    } else {
      found.text ??= `Instruction ${String(index)} failed: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`;
    }
    return;
  }
  if (typeof error["meta"] === "function") {
    const meta = (error["meta"] as () => unknown).call(error);
    if (isRecord(meta) && typeof meta["logs"] === "function") {
      found.logs ??= (meta["logs"] as () => string[]).call(meta);
    }
  }
  if (Array.isArray(error["logs"])) found.logs ??= error["logs"] as string[];
  if (typeof error["code"] === "number" && typeof error["index"] !== "number" && depth > 0) {
    found.custom ??= { code: error["code"] };
  }
  if (typeof error["err"] === "function") {
    const inner = (error["err"] as () => unknown).call(error);
    if (isRecord(inner) && typeof inner["index"] === "number" && typeof inner["err"] === "function") {
      const detail = (inner["err"] as () => unknown).call(inner);
      if (isRecord(detail) && typeof detail["code"] === "number") {
        found.custom ??= { code: detail["code"], index: inner["index"] };
      } else {
        found.text ??= `Instruction ${inner["index"]} failed: ${String(isRecord(detail) ? detail.toString() : detail)}`;
      }
    } else {
      inspect(inner, found, depth + 1);
    }
  }
  if ("cause" in error) inspect(error["cause"], found, depth + 1);
  if (error instanceof Error) found.text ??= error.message;
}

/**
 * A human explanation of a failed transaction, from whatever the caller has: the thrown error, the
 * failed transaction's result, and/or its logs. `instructions` (the transaction's instructions) lets
 * a bare custom code be attributed to the program of the failing instruction.
 */
export function explainError(
  error: unknown,
  options: { logs?: readonly string[] | null; instructions?: readonly { programAddress: Address }[] } = {},
): ExplainedError {
  const found: Found = {};
  if (options.logs) found.logs = options.logs;
  inspect(error, found);
  const index = found.custom?.index;
  const fromLogs = found.logs ? explainLogs(found.logs) : null;
  if (fromLogs) return index === undefined ? fromLogs : { ...fromLogs, instructionIndex: index };
  if (found.custom) {
    const program = index === undefined ? undefined : options.instructions?.[index]?.programAddress;
    const explained = explainCustomCode(found.custom.code, program === DATA_MARKET_PROGRAM_ADDRESS ? undefined : program);
    return index === undefined ? explained : { ...explained, instructionIndex: index };
  }
  return { origin: found.text ? "runtime" : "unknown", message: found.text ?? String(error) };
}

/** An Error carrying the explanation, for callers that rethrow. */
export class DataMarketTransactionError extends Error {
  constructor(
    readonly explanation: ExplainedError,
    options?: { cause?: unknown },
  ) {
    super(explanation.name ? `${explanation.name}: ${explanation.message}` : explanation.message, options);
    this.name = "DataMarketTransactionError";
  }
}
