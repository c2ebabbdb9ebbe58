//! `wallet show`, `wallet grant`.

use serde_json::json;

use crate::args::Common;
use crate::error::{CliError, CliResult};
use crate::setup::setup;

pub async fn show(common: &Common, user: &str, as_json: bool) -> CliResult<()> {
    let s = setup(common).await?;
    let wallet = s.lk.wallet(user).await?;
    let ledger = s.lk.ledger(user, None).await?;
    if as_json {
        let recent: Vec<_> = ledger.iter().rev().take(50).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"user": user, "wallet": wallet, "metered": wallet.is_some(), "ledger": recent}))
                .map_err(|e| CliError::other(e.to_string()))?
        );
        return Ok(());
    }
    match wallet {
        None => {
            println!("{user} has no wallet: runs are unmetered (usage is still recorded per run)")
        }
        Some(w) => {
            println!("user       {}", w.user_id);
            println!("balance    {}", w.balance);
            println!("reserved   {}", w.reserved);
            println!("earned     {}", w.total_earned);
            println!("spent      {}", w.total_spent);
            if let Some(l) = &w.level {
                println!("tier       {l}");
            }
            println!("\nrecent ledger entries:");
            for e in ledger.iter().rev().take(10) {
                println!(
                    "  {:<8} {:>8}  {}",
                    format!("{:?}", e.kind).to_lowercase(),
                    e.amount,
                    e.note
                        .clone()
                        .or_else(|| e.node_id.clone())
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

pub async fn grant(common: &Common, user: &str, amount: i64, key: Option<&str>) -> CliResult<()> {
    if amount <= 0 {
        return Err(CliError::bad_input(
            "the amount must be a positive number of tokens",
        ));
    }
    let s = setup(common).await?;
    let w =
        s.lk.grant(user, amount, key, Some("granted with lekhika wallet grant"))
            .await?;
    println!("{user}: balance {}", w.balance);
    Ok(())
}
