//! `lekhika`: write whole books with AI from a flow, from a terminal.

mod args;
mod commands;
mod error;
mod inputs;
mod progress;
mod setup;

use clap::Parser;

use args::{CacheAction, Cli, Command, WalletAction};
use commands::{cache, fleet, info, run, wallet, worker};
use error::CliResult;

async fn dispatch(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Run(a) => run::run(a).await,
        Command::Resume { id, follow, common } => {
            run::resume(setup::setup(&common).await?, &id, &follow).await
        }
        Command::Stop { id, common } => info::stop(&common, &id).await,
        Command::Status { id, json, common } => info::status(&common, &id, json).await,
        Command::Regenerate {
            id,
            node,
            instruction,
            follow,
            common,
        } => {
            run::regenerate(
                setup::setup(&common).await?,
                &id,
                &node,
                instruction.as_deref(),
                &follow,
            )
            .await
        }
        Command::Approve {
            id,
            node,
            edit,
            follow,
            common,
        } => run::approve(setup::setup(&common).await?, &id, &node, edit, &follow).await,
        Command::Reject {
            id,
            node,
            instruction,
            follow,
            common,
        } => {
            run::reject(
                setup::setup(&common).await?,
                &id,
                &node,
                &instruction,
                &follow,
            )
            .await
        }
        Command::Validate { flow, common } => info::validate(&common, &flow).await,
        Command::Estimate {
            flow,
            inputs,
            json,
            models,
            common,
        } => info::estimate(&common, &flow, &inputs, &models, json).await,
        Command::Export {
            id,
            formats,
            out,
            common,
        } => info::export(&common, &id, &formats, &out).await,
        Command::Wallet { action } => match action {
            WalletAction::Show {
                owner,
                json,
                common,
            } => wallet::show(&common, &owner, json).await,
            WalletAction::Grant {
                owner,
                amount,
                key,
                common,
            } => wallet::grant(&common, &owner, amount, key.as_deref()).await,
        },
        Command::Submit(a) => worker::submit(a).await,
        Command::Migrate { common } => fleet::migrate(&common).await,
        Command::List {
            status,
            json,
            common,
        } => fleet::list(&common, status.as_deref(), json).await,
        Command::Cache { action } => match action {
            CacheAction::Stats { json, common } => cache::stats(&common, json).await,
            CacheAction::Clear { common } => cache::clear(&common).await,
        },
        Command::Workers { json, common } => fleet::workers(&common, json).await,
        Command::Worker {
            max_concurrent,
            json,
            max_runs,
            common,
        } => worker::worker(&common, max_concurrent, json, max_runs).await,
    }
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lekhika: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match rt.block_on(dispatch(cli)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lekhika: {}", e.message);
            e.code
        }
    };
    // Do not wait for runs still winding down in the background.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}
