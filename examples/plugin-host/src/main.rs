//! `wasmpipe-plugin-host [--listen ADDR] [--root DIR]`: serves tenants' plugins over HTTP
//! until Ctrl-C (see the crate's README for the routes and an example session).

use std::path::PathBuf;

use wasmpipe_plugin_host::{App, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut listen = "127.0.0.1:8080".to_string();
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"));
        match arg.as_str() {
            "--listen" => listen = value("--listen")?,
            "--root" => config.root = PathBuf::from(value("--root")?),
            "-h" | "--help" => {
                println!(
                    "usage: wasmpipe-plugin-host [--listen ADDR (127.0.0.1:8080)] [--root DIR (.wasmpipe/plugin-host)]"
                );
                return Ok(());
            }
            other => anyhow::bail!("unknown argument `{other}`; see --help"),
        }
    }
    let app = App::new(config)?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}; choose another with --listen ADDR"))?;
    eprintln!("wasmpipe-plugin-host: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
