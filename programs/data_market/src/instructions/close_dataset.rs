use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

use crate::domain::listing::DatasetState;
use crate::errors::MarketError;
use crate::events::AccountClosed;
use crate::state::Dataset;
use crate::vault;

#[derive(Accounts)]
pub struct CloseDataset<'info> {
    /// The owner, who paid the dataset's and the vault's rent and gets both back.
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, has_one = owner @ MarketError::NotDatasetOwner, has_one = payment_mint, has_one = escrow_vault,
        close = owner)]
    pub dataset: Box<Account<'info, Dataset>>,
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Receives tokens someone sent to the vault outside any sale (the ledger owes them to nobody).
    #[account(mut, token::mint = payment_mint, token::authority = owner, token::token_program = payment_token_program)]
    pub owner_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    pub payment_token_program: Interface<'info, TokenInterface>,
}

impl<'info> CloseDataset<'info> {
    fn validate(&self) -> Result<()> {
        let dataset = &self.dataset;
        let finished = matches!(dataset.state, DatasetState::Retired | DatasetState::Revoked);
        // settled licences do not count: a licence that owes nothing never holds the dataset
        // hostage, and its buyer can still close it (and reclaim its rent) once the dataset is gone
        let idle = dataset.ledger.total()? == 0
            && dataset.licenses_pending == 0
            && dataset.open_disputes == 0
            && dataset.allow_list_entries == 0;
        require!(finished && idle, MarketError::DatasetStillInUse);
        Ok(())
    }

    /// Closes a retired (or revoked) dataset that owes nothing, has no licence waiting for a key, a
    /// refund or a settlement and no allow-list entry left, and its vault.
    /// The licence mint stays (Token-2022 mints with supply cannot close), so the hash stays taken.
    #[inline(never)]
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let stray = accounts.escrow_vault.amount;
        vault::pay_out(
            &accounts.dataset,
            &accounts.escrow_vault,
            Some(&accounts.owner_payment_account),
            &accounts.payment_mint,
            &accounts.payment_token_program,
            stray,
        )?;
        let vault_lamports = accounts.escrow_vault.get_lamports();
        let seeds = accounts.dataset.signer_seeds();
        let signer: &[&[&[u8]]] = &[&seeds];
        token_interface::close_account(CpiContext::new_with_signer(
            accounts.payment_token_program.key(),
            CloseAccount {
                account: accounts.escrow_vault.to_account_info(),
                destination: accounts.owner.to_account_info(),
                authority: accounts.dataset.to_account_info(),
            },
            signer,
        ))?;
        let owner = accounts.owner.key();
        emit!(AccountClosed { account: accounts.escrow_vault.key(), rent_to: owner, lamports: vault_lamports });
        emit!(AccountClosed {
            account: accounts.dataset.key(),
            rent_to: owner,
            lamports: accounts.dataset.get_lamports()
        });
        Ok(())
    }
}
