//! Creating program-derived accounts by hand, where Anchor's `init` cannot be used: registration must
//! answer a taken content hash with its own error, and the licence mint's extensions depend on the terms.
use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};

/// Creates `target` (a PDA signed for by `signer_seeds`) with `space` bytes, `lamports` of rent and
/// `owner`. Someone may have sent lamports to the address beforehand to block a plain
/// `create_account`: then top up, allocate and assign instead.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    space: usize,
    lamports: u64,
    owner: &Pubkey,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    let signer: &[&[&[u8]]] = &[signer_seeds];
    let space = u64::try_from(space).map_err(|_| error!(crate::errors::MarketError::Overflow))?;
    let current = target.lamports();
    if current == 0 {
        let accounts = CreateAccount { from: payer.clone(), to: target.clone() };
        return system_program::create_account(
            CpiContext::new_with_signer(system.key(), accounts, signer),
            lamports,
            space,
            owner,
        );
    }
    let top_up = lamports.saturating_sub(current);
    if top_up > 0 {
        let accounts = Transfer { from: payer.clone(), to: target.clone() };
        system_program::transfer(CpiContext::new(system.key(), accounts), top_up)?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(system.key(), Allocate { account_to_allocate: target.clone() }, signer),
        space,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(system.key(), Assign { account_to_assign: target.clone() }, signer),
        owner,
    )
}

/// Creates the program-owned PDA `target`, sized and funded for `T`, and writes `value` into it
/// (discriminator first), as Anchor's `init` would.
pub fn create_program_account<'info, T: AccountSerialize + Space>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    value: &T,
) -> Result<()> {
    let space = 8 + T::INIT_SPACE;
    create_pda_account(payer, target, system, space, Rent::get()?.minimum_balance(space), &crate::ID, signer_seeds)?;
    value.try_serialize(&mut &mut target.try_borrow_mut_data()?[..])
}
