use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::TokenAccount;

use crate::domain::validation::non_zero;
use crate::domain::{lifecycle, listing};
use crate::errors::MarketError;
use crate::events::UsageRecorded;
use crate::license_token;
use crate::pda::{self, create_program_account};
use crate::state::{seeds, License, Revision, UsagePurpose, UsageReceipt, UsageView};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RecordUsageArgs {
    pub purpose: UsagePurpose,
    /// Hash of the model or artifact trained, tuned, evaluated or served with the data (not all zeros).
    pub model_hash: [u8; 32],
    /// Caller-chosen identifier of the run.
    pub run_id: [u8; 32],
}

#[derive(Accounts)]
pub struct RecordUsage<'info> {
    /// The licence's buyer, holding its licence token; pays the receipt's rent.
    #[account(mut)]
    pub holder: Signer<'info>,
    /// Optional second signer vouching for the run (e.g. the compute provider), recorded as such.
    pub attestor: Option<Signer<'info>>,
    /// CHECK: a Dataset: owner checked here, discriminator when read in `validate`. Only the fields
    /// this instruction needs are read, and its usage counter is bumped in place (see
    /// state::dataset::layout), which keeps the most frequent instruction cheap.
    #[account(mut, owner = crate::ID)]
    pub dataset: UncheckedAccount<'info>,
    #[account(mut, has_one = dataset, constraint = license.buyer == holder.key() @ MarketError::NotLicenseBuyer)]
    pub license: Box<Account<'info, License>>,
    /// CHECK: the dataset's licence mint (bound by has_one on the dataset); only handed to Token-2022.
    #[account(mut)]
    pub license_mint: UncheckedAccount<'info>,
    /// The holder's licence tokens: proves the licence is held (and pays metered credits).
    #[account(mut, token::mint = license_mint, token::authority = holder, token::token_program = token_2022_program)]
    pub holder_license_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the receipt PDA for the licence's next use (address checked against its seeds by pda::canonical_bump; created in the
    /// handler so lamports sent there beforehand cannot block it).
    #[account(mut)]
    pub receipt: UncheckedAccount<'info>,
    pub token_2022_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

impl<'info> RecordUsage<'info> {
    fn validate(&self, args: &RecordUsageArgs) -> Result<()> {
        let dataset = UsageView::read(&self.dataset.try_borrow_data()?)?;
        require_keys_eq!(dataset.license_mint, self.license_mint.key(), ErrorCode::ConstraintHasOne);
        require!(listing::usage_allowed(dataset.state), MarketError::DatasetRevoked);
        let now = Clock::get()?.unix_timestamp;
        lifecycle::check_usable(self.license.state, &self.license.clock(), now)?;
        let no_token = if dataset.metered { MarketError::NoCreditsLeft } else { MarketError::LicenseTokenNotHeld };
        if self.holder_license_account.amount == 0 {
            return Err(no_token.into());
        }
        // a metered licence is bounded by its own credits, whatever tokens the holder has left over
        // from an earlier licence to the same dataset
        if dataset.metered && self.license.usage_count >= self.license.credits {
            return Err(MarketError::NoCreditsLeft.into());
        }
        non_zero(&args.model_hash, MarketError::InvalidModelHash)?;
        Ok(())
    }

    /// Records one use of a valid, held licence as a receipt at a derivable address; a metered
    /// licence spends one credit.
    #[inline(never)]
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<'info, Self>, args: RecordUsageArgs) -> Result<()> {
        let accounts = ctx.accounts;
        let metered = UsageView::read(&accounts.dataset.try_borrow_data()?)?.metered;
        if metered {
            license_token::burn_as_holder(
                &accounts.holder,
                &accounts.license_mint.to_account_info(),
                &accounts.holder_license_account,
                &accounts.token_2022_program,
                1,
            )?;
        }
        let license_key = accounts.license.key();
        let index = accounts.license.usage_count;
        let (serial, index_bytes) = (accounts.license.serial.to_le_bytes(), index.to_le_bytes());
        let bump = pda::canonical_bump(
            &accounts.receipt.key(),
            &[seeds::RECEIPT, license_key.as_ref(), &serial, &index_bytes],
        )?;
        let receipt_seeds: [&[u8]; 5] = [seeds::RECEIPT, license_key.as_ref(), &serial, &index_bytes, &[bump]];
        let attestor = accounts.attestor.as_ref().map(|a| a.key()).unwrap_or_default();
        let receipt = UsageReceipt {
            revision: 0,
            dataset: accounts.dataset.key(),
            license: license_key,
            model_hash: args.model_hash,
            holder: accounts.holder.key(),
            attestor,
            purpose: args.purpose,
            run_id: args.run_id,
            recorded_at: Clock::get()?.unix_timestamp,
            index,
            bump,
        };
        create_program_account(
            &accounts.holder.to_account_info(),
            &accounts.receipt.to_account_info(),
            &accounts.system_program.to_account_info(),
            &receipt_seeds,
            &receipt,
        )?;
        let info = accounts.receipt.to_account_info();

        UsageView::count_use(&mut accounts.dataset.try_borrow_mut_data()?, args.purpose.index())?;
        accounts.license.usage_count = index.checked_add(1).ok_or(MarketError::Overflow)?;
        accounts.license.touch()?;
        emit!(UsageRecorded {
            dataset: receipt.dataset,
            license: license_key,
            receipt: info.key(),
            holder: receipt.holder,
            attestor,
            purpose: args.purpose,
            model_hash: args.model_hash,
            run_id: args.run_id,
            index,
        });
        Ok(())
    }
}
