//! `amlplan import ADDR ID`: reads the existing object and records it in state under an address
//! of the configuration. Nothing in the cloud changes; the next plan shows any difference
//! between the object and its configuration.

use std::io::Write as _;
use std::path::Path;

use engine::addr::ResourceAddr;

use crate::cli::ImportArgs;

use super::session::Session;
use super::{Outcome, load};

/// Runs `import`.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &ImportArgs,
) -> anyhow::Result<Outcome> {
    let addr = ResourceAddr::parse(&args.addr)
        .map_err(|error| anyhow::anyhow!("`{}` is not a resource address: {error}", args.addr))?;
    let loaded = load(dir, &args.vars)?;
    anyhow::ensure!(
        loaded.config.resource_block(&addr).is_some(),
        "`{addr}` is not in the configuration: add a `resource \"{}\" \"{}\"` block first, then import into it",
        addr.resource_type,
        addr.name
    );
    let schema = loaded
        .registry
        .get(&addr.resource_type)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "`{}` is not a resource type amlplan manages",
                addr.resource_type
            )
        })?
        .clone();
    runtime.block_on(async {
        let mut session = Session::open(dir, loaded, &args.state, "import").await?;
        if session.state.instance(&addr).is_some() {
            session.target.close().await;
            anyhow::bail!("`{addr}` is already in the state; `amlplan state rm {addr}` first to import another object");
        }
        let alias = session.configured_provider(&addr);
        let client = match session.target.client_of(alias.as_deref()) {
            Ok(client) => client,
            Err(error) => {
                session.target.close().await;
                return Err(error);
            }
        };
        let object = engine::api::CloudApi::read(client, &schema, &args.id).await?;
        let Some(object) = object else {
            session.target.close().await;
            anyhow::bail!("`{}` does not exist: nothing to import", args.id);
        };
        let key = session.key.clone();
        session.state.set_object(&addr, &schema, &object, &[], Some(&key));
        session.state.set_provider_alias(&addr, alias.as_deref());
        session.store.save(&mut session.state)?;
        writeln!(std::io::stdout().lock(), "{addr}: Import complete [id={}]", args.id)?;
        session.target.close().await;
        Ok(Outcome::Success)
    })
}
