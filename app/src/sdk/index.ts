// The data market SDK: the one module the rest of the app imports for the program (never
// src/generated directly). It re-exports the generated types clients need (enums, argument and
// account types, event payloads) next to the hand-written layers.
export * from "./constants.js";
export * from "./pdas.js";
export * from "./accounts.js";
export * from "./instructions.js";
export * from "./transactions.js";
export * from "./discovery.js";
export * from "./dataset-query.js";
export * from "./indexer.js";
export * from "./search.js";
export * from "./account-lists.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./preview.js";

export {
  DatasetCategory,
  DatasetState,
  DisputeReason,
  LicenseState,
  PreviewState,
  UsagePurpose,
  isRuling,
  ruling,
  type EscrowLedger,
  type LicenseTerms,
  type LicenseTermsArgs,
  type RatingAggregate,
  type Recipient,
  type RecipientArgs,
  type ReviewInput as ReviewArgs,
  type Ruling,
  type RulingArgs,
  type AccountClosed,
  type AllowListChanged,
  type AuthorityProposed,
  type AuthorityTransferred,
  type CreditsPurchased,
  type DatasetRegistered,
  type DatasetStateChanged,
  type DatasetUpdated,
  type DisputeOpened,
  type DisputeRuled,
  type KeyDelivered,
  type LicensePurchased,
  type LicenseRefunded,
  type LicenseRenewed,
  type PreviewAnswered,
  type PreviewExpired,
  type PreviewPolicySet,
  type PreviewRequested,
  type LicenseSettled,
  type MarketplaceInitialized,
  type MarketplaceUpdated,
  type ProtocolFeesSwept,
  type ReferralFeeClaimed,
  type RevenueClaimed,
  type ReviewSubmitted,
  type UsageRecorded,
} from "../generated/types/index.js";
