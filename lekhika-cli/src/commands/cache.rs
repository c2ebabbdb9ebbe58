//! `cache stats`, `cache clear`: the replies `--reuse` serves.

use crate::args::Common;
use crate::error::{CliError, CliResult};
use crate::setup::setup;

pub async fn stats(common: &Common, as_json: bool) -> CliResult<()> {
    let s = setup(common).await?;
    let st = s.lk.reuse_stats(&s.user).await?;
    if as_json {
        let v = serde_json::json!({"user": s.user, "stats": st});
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| CliError::other(e.to_string()))?
        );
        return Ok(());
    }
    println!("user        {}", s.user);
    println!(
        "reusable    {} replies from {} runs ({} input + {} output tokens, cost {} when asked)",
        st.replies, st.executions, st.usage.input_tokens, st.usage.output_tokens, st.cost
    );
    println!(
        "reused      {} replies ({} input + {} output tokens not asked again)",
        st.reused, st.reused_usage.input_tokens, st.reused_usage.output_tokens
    );
    Ok(())
}

pub async fn clear(common: &Common) -> CliResult<()> {
    let s = setup(common).await?;
    let n = s.lk.clear_reuse(&s.user).await?;
    println!(
        "{}: forgot {n} reusable replies; later --reuse runs ask the provider again",
        s.user
    );
    Ok(())
}
