//! Mints and token accounts of the real SPL Token and Token-2022 programs bundled with LiteSVM.
use anchor_lang::prelude::*;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account;
use anchor_spl::token_2022::spl_token_2022::extension::{ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::{self, extension::transfer_fee, instruction as token_ix, state};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::market::{Market, Outcome};

pub const TOKEN: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022: Pubkey = spl_token_2022::ID;

/// A payment mint and the key that can mint it.
pub struct PaymentMint {
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    pub authority: Keypair,
}

/// Mint extensions a test may ask for (used to prove which payment mints are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintExtra {
    None,
    TransferFee,
    MintCloseAuthority,
    /// A freeze authority (as USDC has): the issuer could freeze any account of the mint.
    FreezeAuthority,
}

impl Market {
    pub fn create_mint(&mut self, token_program: Pubkey, decimals: u8, extra: MintExtra) -> PaymentMint {
        let authority = self.wallet();
        let mint = self.keypair();
        let extensions: Vec<ExtensionType> = match extra {
            MintExtra::None | MintExtra::FreezeAuthority => vec![],
            MintExtra::TransferFee => vec![ExtensionType::TransferFeeConfig],
            MintExtra::MintCloseAuthority => vec![ExtensionType::MintCloseAuthority],
        };
        let space = if extensions.is_empty() {
            state::Mint::LEN
        } else {
            ExtensionType::try_calculate_account_len::<state::Mint>(&extensions).unwrap()
        };
        let mut instructions = vec![system_instruction::create_account(
            &authority.pubkey(),
            &mint.pubkey(),
            self.svm.minimum_balance_for_rent_exemption(space),
            space as u64,
            &token_program,
        )];
        match extra {
            MintExtra::None | MintExtra::FreezeAuthority => {}
            MintExtra::TransferFee => instructions.push(
                transfer_fee::instruction::initialize_transfer_fee_config(
                    &token_program,
                    &mint.pubkey(),
                    Some(&authority.pubkey()),
                    Some(&authority.pubkey()),
                    100,
                    1_000_000,
                )
                .unwrap(),
            ),
            MintExtra::MintCloseAuthority => instructions.push(
                token_ix::initialize_mint_close_authority(&token_program, &mint.pubkey(), Some(&authority.pubkey()))
                    .unwrap(),
            ),
        }
        let freeze_authority = (extra == MintExtra::FreezeAuthority).then(|| authority.pubkey());
        instructions.push(
            token_ix::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                &authority.pubkey(),
                freeze_authority.as_ref(),
                decimals,
            )
            .unwrap(),
        );
        self.send(&instructions, &[&authority, &mint]).succeeds();
        PaymentMint { mint: mint.pubkey(), token_program, decimals, authority }
    }

    /// The owner's associated token account for `mint`, created if missing.
    pub fn token_account(&mut self, owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
        let address = get_associated_token_address_with_program_id(owner, mint, token_program);
        if !self.exists(&address) {
            let payer = self.wallet();
            let ix = create_associated_token_account(&payer.pubkey(), owner, mint, token_program);
            self.send(&[ix], &[&payer]).succeeds();
        }
        address
    }

    /// Creates `owner`'s account if needed and mints `amount` to it.
    pub fn fund(&mut self, mint: &PaymentMint, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = self.token_account(owner, &mint.mint, &mint.token_program);
        let ix = token_ix::mint_to_checked(
            &mint.token_program,
            &mint.mint,
            &account,
            &mint.authority.pubkey(),
            &[],
            amount,
            mint.decimals,
        )
        .unwrap();
        let authority = mint.authority.insecure_clone();
        self.send(&[ix], &[&authority]).succeeds();
        account
    }

    /// Token balance of a token account (0 if it does not exist).
    pub fn balance(&self, token_account: &Pubkey) -> u64 {
        match self.svm.get_account(token_account) {
            Some(account) if !account.data.is_empty() => {
                StateWithExtensions::<state::Account>::unpack(&account.data).expect("token account").base.amount
            }
            _ => 0,
        }
    }

    pub fn token_account_state(&self, token_account: &Pubkey) -> state::Account {
        let account = self.svm.get_account(token_account).expect("token account exists");
        StateWithExtensions::<state::Account>::unpack(&account.data).expect("token account").base
    }

    pub fn mint_supply(&self, mint: &Pubkey) -> u64 {
        let account = self.svm.get_account(mint).expect("mint exists");
        StateWithExtensions::<state::Mint>::unpack(&account.data).expect("mint").base.supply
    }
}
