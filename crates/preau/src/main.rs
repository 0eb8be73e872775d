//! `preau`: the Préau server and its operator commands.

mod config;
mod demo;
mod import;
mod server;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use config::Config;
use std::path::PathBuf;

/// Préau, l'espace numérique de travail des écoles.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Préau (configuration: defaults, then preau.toml or --config, then PREAU_* variables).
    Serve {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Create (first run) and serve a demo territory: a commune with three schools and
    /// accounts of every profile; prints the URL and the demo logins (password: preau-demo).
    Demo {
        /// Directory of the demo's data.
        #[arg(long, default_value = "preau-demo")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Directory imports: ONDE extracts of a school, AAF exports of an académie.
    Import {
        #[command(subcommand)]
        task: import::ImportTask,
    },
    /// Operator tasks: platform operators, tenants, structures, activation codes.
    Admin {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        task: server::AdminTask,
    },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable line with its causes, never a backtrace.
            eprintln!("preau : {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("démarrage du runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { config } => {
                let config = Config::load(config.as_deref())?;
                server::init_logging(&config);
                server::serve(config).await
            }
            Command::Demo { data, listen } => {
                let mut config = Config::load(None)?;
                // The demo keeps its data apart; PREAU_DATABASE_URL may still point it at PostgreSQL.
                config.data_dir = data;
                config.listen = listen;
                config.public_url = None;
                server::init_logging(&config);
                demo::run(config).await
            }
            Command::Migrate { config } => {
                let config = Config::load(config.as_deref())?;
                server::init_logging(&config);
                let db = server::open_db(&config).await?;
                db.close().await;
                println!("Migrations appliquées.");
                Ok(())
            }
            Command::Import { task } => import::run(task).await,
            Command::Admin { config, task } => {
                let config = Config::load(config.as_deref())?;
                server::init_logging(&config);
                server::admin(config, task).await
            }
        }
    })
}
