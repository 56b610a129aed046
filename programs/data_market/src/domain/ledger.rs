//! The escrow ledger of one dataset. Its vault holds exactly `total()`: money escrowed for licences
//! not yet settled, revenue each recipient can claim, referral fees owed, and protocol fees not yet
//! swept. Every instruction that moves tokens in or out of the vault updates the ledger by the same
//! amount, so the program tests can assert `vault balance == ledger.total()` after every step.
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, InitSpace};

use super::fees::{split, FeeBreakdown};
use super::DomainResult;
use crate::constants::MAX_RECIPIENTS;
use crate::errors::MarketError;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct EscrowLedger {
    /// Paid for licences that are not settled or refunded yet.
    pub escrowed: u64,
    /// Settled revenue each recipient can withdraw, in the order of the dataset's split.
    pub claimable: [u64; MAX_RECIPIENTS],
    /// Referral fees of settled licences not yet claimed by their referrers.
    pub referral_fees_owed: u64,
    /// Protocol fees not yet swept to the treasury.
    pub protocol_fees_owed: u64,
}

impl EscrowLedger {
    /// What the vault must hold.
    pub fn total(&self) -> DomainResult<u64> {
        self.claimable
            .iter()
            .try_fold(self.escrowed, |sum, owed| sum.checked_add(*owed))
            .and_then(|sum| sum.checked_add(self.referral_fees_owed))
            .and_then(|sum| sum.checked_add(self.protocol_fees_owed))
            .ok_or(MarketError::Overflow)
    }

    /// A purchase paid `amount` into the vault; it stays escrowed until settlement or refund.
    pub fn deposit(&mut self, amount: u64) -> DomainResult<()> {
        self.escrowed = self.escrowed.checked_add(amount).ok_or(MarketError::Overflow)?;
        Ok(())
    }

    /// A refund paid `amount` back out of escrow.
    pub fn refund(&mut self, amount: u64) -> DomainResult<()> {
        self.escrowed = self.escrowed.checked_sub(amount).ok_or(MarketError::EscrowShortfall)?;
        Ok(())
    }

    /// An escrowed payment becomes fees and claimable revenue.
    pub fn settle(&mut self, fees: &FeeBreakdown, shares_bps: &[u16]) -> DomainResult<()> {
        self.escrowed = self.escrowed.checked_sub(fees.gross).ok_or(MarketError::EscrowShortfall)?;
        self.accrue(fees, shares_bps)
    }

    /// A payment that needs no escrow (a renewal of a delivered licence) goes straight to fees and
    /// revenue. Also the second half of `settle`.
    pub fn accrue(&mut self, fees: &FeeBreakdown, shares_bps: &[u16]) -> DomainResult<()> {
        let parts: [u64; MAX_RECIPIENTS] = split(fees.net, shares_bps)?;
        for (owed, part) in self.claimable.iter_mut().zip(parts) {
            *owed = owed.checked_add(part).ok_or(MarketError::Overflow)?;
        }
        self.protocol_fees_owed =
            self.protocol_fees_owed.checked_add(fees.protocol_fee).ok_or(MarketError::Overflow)?;
        self.referral_fees_owed =
            self.referral_fees_owed.checked_add(fees.referral_fee).ok_or(MarketError::Overflow)?;
        Ok(())
    }

    /// Everything recipient `index` is owed; the caller pays it out of the vault.
    pub fn claim(&mut self, index: usize) -> DomainResult<u64> {
        let owed = self.claimable.get_mut(index).ok_or(MarketError::NotARecipient)?;
        if *owed == 0 {
            return Err(MarketError::NothingToClaim);
        }
        Ok(std::mem::take(owed))
    }

    /// A referrer withdrew the fee of one settled licence.
    pub fn pay_referral(&mut self, amount: u64) -> DomainResult<()> {
        self.referral_fees_owed = self.referral_fees_owed.checked_sub(amount).ok_or(MarketError::EscrowShortfall)?;
        Ok(())
    }

    /// A referral fee nobody claimed in time goes to the recipients instead (no protocol fee: it was
    /// already taken at settlement).
    pub fn forfeit_referral(&mut self, amount: u64, shares_bps: &[u16]) -> DomainResult<()> {
        self.pay_referral(amount)?;
        let parts: [u64; MAX_RECIPIENTS] = split(amount, shares_bps)?;
        for (owed, part) in self.claimable.iter_mut().zip(parts) {
            *owed = owed.checked_add(part).ok_or(MarketError::Overflow)?;
        }
        Ok(())
    }

    /// All unswept protocol fees; the caller sends them to the treasury.
    pub fn sweep(&mut self) -> DomainResult<u64> {
        if self.protocol_fees_owed == 0 {
            return Err(MarketError::NothingToSweep);
        }
        Ok(std::mem::take(&mut self.protocol_fees_owed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fees::breakdown;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Buy(u64, bool),
        Refund(usize),
        Settle(usize),
        Renew(u64),
        Claim(usize),
        ClaimReferral(usize),
        ForfeitReferral(usize),
        Sweep,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u64..1_000_000_000_000, any::<bool>()).prop_map(|(p, r)| Op::Buy(p, r)),
            any::<usize>().prop_map(Op::Refund),
            any::<usize>().prop_map(Op::Settle),
            (0u64..1_000_000_000_000).prop_map(Op::Renew),
            (0usize..MAX_RECIPIENTS).prop_map(Op::Claim),
            any::<usize>().prop_map(Op::ClaimReferral),
            any::<usize>().prop_map(Op::ForfeitReferral),
            Just(Op::Sweep),
        ]
    }

    proptest! {
        /// Random sequences of sales, refunds, settlements, claims and sweeps against a model vault:
        /// the ledger always equals the vault, and money is only ever paid out once.
        #[test]
        fn vault_always_equals_ledger(ops in proptest::collection::vec(op(), 1..60)) {
            let shares = [5_000u16, 3_000, 2_000];
            let (protocol_bps, referral_bps) = (250u16, 500u16);
            let mut ledger = EscrowLedger::default();
            let mut vault: u64 = 0;
            let mut paid_in: u64 = 0;
            let mut paid_out: u64 = 0;
            // open licences (gross, referral bps) and settled licences with an unpaid referral fee
            let mut open: Vec<FeeBreakdown> = Vec::new();
            let mut referrals: Vec<u64> = Vec::new();
            for op in ops {
                match op {
                    Op::Buy(price, referred) => {
                        let fees = breakdown(price, protocol_bps, if referred { referral_bps } else { 0 }).unwrap();
                        ledger.deposit(price).unwrap();
                        vault += price; paid_in += price;
                        open.push(fees);
                    }
                    Op::Refund(i) if !open.is_empty() => {
                        let fees = open.swap_remove(i % open.len());
                        ledger.refund(fees.gross).unwrap();
                        vault -= fees.gross; paid_out += fees.gross;
                    }
                    Op::Settle(i) if !open.is_empty() => {
                        let fees = open.swap_remove(i % open.len());
                        ledger.settle(&fees, &shares).unwrap();
                        if fees.referral_fee > 0 { referrals.push(fees.referral_fee); }
                    }
                    Op::Renew(price) => {
                        let fees = breakdown(price, protocol_bps, 0).unwrap();
                        ledger.accrue(&fees, &shares).unwrap();
                        vault += price; paid_in += price;
                    }
                    Op::Claim(i) => {
                        match ledger.claim(i) {
                            Ok(amount) => { vault -= amount; paid_out += amount; prop_assert!(amount > 0); }
                            Err(e) => prop_assert!(e == MarketError::NothingToClaim),
                        }
                        prop_assert_eq!(ledger.claim(i), Err(MarketError::NothingToClaim));
                    }
                    Op::ClaimReferral(i) if !referrals.is_empty() => {
                        let fee = referrals.swap_remove(i % referrals.len());
                        ledger.pay_referral(fee).unwrap();
                        vault -= fee; paid_out += fee;
                    }
                    Op::ForfeitReferral(i) if !referrals.is_empty() => {
                        // stays in the vault, now owed to the recipients
                        let fee = referrals.swap_remove(i % referrals.len());
                        let claimable_before: u64 = ledger.claimable.iter().sum();
                        ledger.forfeit_referral(fee, &shares).unwrap();
                        prop_assert_eq!(ledger.claimable.iter().sum::<u64>(), claimable_before + fee);
                    }
                    Op::Sweep => {
                        if let Ok(amount) = ledger.sweep() { vault -= amount; paid_out += amount; }
                        prop_assert_eq!(ledger.sweep(), Err(MarketError::NothingToSweep));
                    }
                    _ => {}
                }
                prop_assert_eq!(ledger.total().unwrap(), vault);
                prop_assert_eq!(paid_in - paid_out, vault);
                prop_assert_eq!(ledger.escrowed, open.iter().map(|f| f.gross).sum::<u64>());
            }
        }
    }

    #[test]
    fn cannot_refund_or_settle_more_than_escrowed() {
        let mut ledger = EscrowLedger::default();
        ledger.deposit(10).unwrap();
        assert_eq!(ledger.refund(11), Err(MarketError::EscrowShortfall));
        let fees = breakdown(11, 0, 0).unwrap();
        assert_eq!(ledger.settle(&fees, &[10_000]), Err(MarketError::EscrowShortfall));
        assert_eq!(ledger.claim(MAX_RECIPIENTS), Err(MarketError::NotARecipient));
        assert_eq!(ledger.pay_referral(1), Err(MarketError::EscrowShortfall));
        assert_eq!(ledger.forfeit_referral(1, &[10_000]), Err(MarketError::EscrowShortfall));
    }

    #[test]
    fn deposit_overflow_is_named() {
        let mut ledger = EscrowLedger { escrowed: u64::MAX, ..Default::default() };
        assert_eq!(ledger.deposit(1), Err(MarketError::Overflow));
    }
}
