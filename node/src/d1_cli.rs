//! `kiln d1`: D1 databases of a running node, as `wrangler d1` does them: `execute` (a command or
//! a file of SQL) and `migrations apply|list` (the `.sql` files of the database's migrations
//! directory, each applied once, in name order, in one transaction with the row that records it
//! in the migrations table). The database is named by its binding or `database_name` in the
//! wrangler config of `--dir`; the SQL goes through the admin API (`admin::d1`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use crate::config::D1DatabaseConfig;

#[derive(clap::Args)]
pub struct D1Args {
    #[command(subcommand)]
    pub action: D1Action,
    /// The project whose wrangler config names the database.
    #[arg(long, global = true, default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub node: crate::admin_client::NodeArgs,
}

#[derive(clap::Subcommand)]
pub enum D1Action {
    /// Run SQL on a database: `--command` or `--file`.
    Execute {
        /// The database's binding or `database_name`.
        database: String,
        #[arg(long)]
        command: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        /// Accepted for wrangler's sake: Kiln's databases are the node's.
        #[arg(long)]
        local: bool,
        #[arg(long)]
        remote: bool,
        /// Accepted for wrangler's sake: the answer is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// The database's migrations.
    Migrations {
        #[command(subcommand)]
        action: MigrationsAction,
    },
}

#[derive(clap::Subcommand)]
pub enum MigrationsAction {
    /// Apply the migrations not applied yet, in order.
    Apply {
        database: String,
        #[arg(long)]
        local: bool,
        #[arg(long)]
        remote: bool,
    },
    /// Show which migrations are applied and which are not.
    List {
        database: String,
        #[arg(long)]
        local: bool,
        #[arg(long)]
        remote: bool,
    },
}

/// Where wrangler looks for migrations, and the table it records them in.
const MIGRATIONS_DIR_DEFAULT: &str = "migrations";
const MIGRATIONS_TABLE_DEFAULT: &str = "d1_migrations";

fn database(dir: &Path, name: &str) -> anyhow::Result<D1DatabaseConfig> {
    let loaded = crate::config::load(dir)?;
    loaded
        .config
        .d1_databases
        .iter()
        .find(|d| d.binding == name || d.database_name.as_deref() == Some(name))
        .cloned()
        .with_context(|| {
            format!(
                "{}: no d1_databases entry has the binding or database_name {name:?}",
                loaded.path.display()
            )
        })
}

/// Runs `sql` on the database; the last statement's rows and the meta, as the node answers.
fn run_sql(node: &crate::admin_client::NodeArgs, id: &str, sql: &str) -> anyhow::Result<Value> {
    let (url, token) = node.resolve()?;
    let path = format!(
        "{}{}",
        crate::admin::D1_PREFIX,
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    let (status, body) = crate::admin_client::exchange(
        &url,
        "POST",
        &path,
        &token,
        "application/sql",
        sql.as_bytes(),
    )?;
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status != 200 {
        anyhow::bail!(
            "{}",
            answer["error"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("the node answered {status}"))
        );
    }
    Ok(answer)
}

/// A SQL string literal.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[allow(clippy::print_stdout)]
pub fn run(args: D1Args) -> anyhow::Result<()> {
    match args.action {
        D1Action::Execute {
            database: name,
            command,
            file,
            ..
        } => {
            let db = database(&args.dir, &name)?;
            let sql = match (command, file) {
                (Some(command), None) => command,
                (None, Some(file)) => std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?,
                _ => anyhow::bail!("give --command or --file (one of them)"),
            };
            let answer = run_sql(&args.node, &db.id(), &sql)?;
            let shaped = serde_json::json!([{ "results": answer["results"], "success": true, "meta": answer["meta"] }]);
            println!("{}", serde_json::to_string_pretty(&shaped)?);
            Ok(())
        }
        D1Action::Migrations { action } => {
            let (name, apply) = match action {
                MigrationsAction::Apply { database, .. } => (database, true),
                MigrationsAction::List { database, .. } => (database, false),
            };
            let db = database(&args.dir, &name)?;
            let table = db
                .migrations_table
                .clone()
                .unwrap_or_else(|| MIGRATIONS_TABLE_DEFAULT.into());
            let table_sql = format!("\"{}\"", table.replace('"', "\"\""));
            run_sql(
                &args.node,
                &db.id(),
                &format!("CREATE TABLE IF NOT EXISTS {table_sql} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)"),
            )?;
            let applied: Vec<String> = run_sql(
                &args.node,
                &db.id(),
                &format!("SELECT name FROM {table_sql} ORDER BY id"),
            )?["results"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|row| row["name"].as_str().map(str::to_owned))
                .collect();
            let dir = args.dir.join(
                db.migrations_dir
                    .clone()
                    .unwrap_or_else(|| MIGRATIONS_DIR_DEFAULT.into()),
            );
            let mut files: Vec<String> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.ends_with(".sql"))
                    .collect(),
                Err(_) => Vec::new(),
            };
            files.sort();
            let pending: Vec<&String> = files.iter().filter(|f| !applied.contains(f)).collect();
            if !apply {
                for file in &files {
                    let state = if applied.contains(file) {
                        "applied"
                    } else {
                        "pending"
                    };
                    println!("{state}\t{file}");
                }
                return Ok(());
            }
            if pending.is_empty() {
                println!("No migrations to apply.");
                return Ok(());
            }
            for file in pending {
                let sql = std::fs::read_to_string(dir.join(file))
                    .with_context(|| format!("reading {}", dir.join(file).display()))?;
                run_sql(
                    &args.node,
                    &db.id(),
                    &format!(
                        "{sql}\n;\nINSERT INTO {table_sql} (name) VALUES ({});",
                        quoted(file)
                    ),
                )
                .with_context(|| format!("applying {file}"))?;
                println!("applied\t{file}");
            }
            Ok(())
        }
    }
}
