//! Operator commands for the live-stream dialects: an application's dialect
//! credentials (`hubbub app credentials`), user passwords for the dialects' login
//! flows (`hubbub user password`) and ready-made user credentials of every kind
//! (`hubbub token --for prism|kitkot|allmine|realtime`).

use clap::{Args, Subcommand, ValueEnum};
use hubbub_core::Engine;
use hubbub_core::engine::{Actor, CreateUser, UserRef};
use hubbub_core::model::{Application, Dialect, DialectCredential, UserKind};
use hubbub_core::names::UserName;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// The application's client_id.
    #[arg(long, value_name = "CLIENT_ID")]
    pub app: String,
    /// Replace this dialect's credential with fresh random values.
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub rotate: Vec<DialectArg>,
    /// Set the PRISM OAuth client id (`x-prism-client-id`).
    #[arg(long, value_name = "ID")]
    pub prism_client_id: Option<String>,
    /// Set the PRISM OAuth client secret (`x-prism-client-secret`).
    #[arg(long, value_name = "SECRET")]
    pub prism_client_secret: Option<String>,
    /// Set the kitkot `api_key`.
    #[arg(long, value_name = "KEY")]
    pub kitkot_api_key: Option<String>,
    /// Set the Tencent SDKAppID.
    #[arg(long, value_name = "SDKAPPID")]
    pub tencent_sdkappid: Option<u64>,
    /// Set the Tencent UserSig key.
    #[arg(long, value_name = "KEY")]
    pub tencent_key: Option<String>,
    /// Set the Tencent admin identifiers (comma separated).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub tencent_admins: Option<Vec<String>>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    Prism,
    Kitkot,
    Allmine,
    Tencent,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Self {
        match d {
            DialectArg::Prism => Dialect::Prism,
            DialectArg::Kitkot => Dialect::Kitkot,
            DialectArg::Allmine => Dialect::Allmine,
            DialectArg::Tencent => Dialect::Tencent,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Set (or clear) a user's password for the PRISM, kitkot and Allmine logins.
    /// The password is read from standard input (one line) unless --clear.
    Password(PasswordArgs),
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    #[arg(long, value_name = "CLIENT_ID")]
    pub app: String,
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub user: String,
    /// Create the user first if there is none of that name.
    #[arg(long)]
    pub create: bool,
    /// Remove the password instead of setting one.
    #[arg(long, conflicts_with = "create")]
    pub clear: bool,
}

/// What `hubbub token --for` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum TokenKind {
    /// A realtime connection JWT (the default).
    #[default]
    Realtime,
    /// A PRISM access token (`x-prism-access-token`), with its refresh token on stderr.
    Prism,
    /// A kitkot `session_key`.
    Kitkot,
    /// An Allmine access JWT (`Authorization: Bearer`).
    Allmine,
}

async fn application(engine: &Engine, client_id: &str) -> anyhow::Result<Application> {
    engine
        .find_credentials(client_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|c| c.app)
        .ok_or_else(|| anyhow::anyhow!("no application with client_id {client_id:?}"))
}

pub async fn credentials(engine: &Engine, args: CredentialsArgs) -> anyhow::Result<()> {
    let app = application(engine, &args.app).await?;
    let err = |e: hubbub_core::Error| anyhow::anyhow!("{e}");
    for dialect in &args.rotate {
        engine
            .rotate_dialect_credential(app.id, (*dialect).into())
            .await
            .map_err(err)?;
    }
    let current = |dialect| async move {
        engine
            .dialect_credential(app.id, dialect)
            .await
            .map_err(err)?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the application has no {} credential; use --rotate {} to make one",
                    dialect.as_str(),
                    dialect.as_str()
                )
            })
    };
    if args.prism_client_id.is_some() || args.prism_client_secret.is_some() {
        let mut c = current(Dialect::Prism).await?;
        c.key = args.prism_client_id.unwrap_or(c.key);
        c.secret = args.prism_client_secret.unwrap_or(c.secret);
        engine
            .set_dialect_credential(app.id, c)
            .await
            .map_err(err)?;
    }
    if let Some(key) = args.kitkot_api_key {
        let mut c = current(Dialect::Kitkot).await?;
        c.key = key;
        engine
            .set_dialect_credential(app.id, c)
            .await
            .map_err(err)?;
    }
    if args.tencent_sdkappid.is_some()
        || args.tencent_key.is_some()
        || args.tencent_admins.is_some()
    {
        let mut c = current(Dialect::Tencent).await?;
        if let Some(id) = args.tencent_sdkappid {
            c.key = id.to_string();
        }
        c.secret = args.tencent_key.unwrap_or(c.secret);
        c.admins = args.tencent_admins.unwrap_or(c.admins);
        engine
            .set_dialect_credential(app.id, c)
            .await
            .map_err(err)?;
    }
    let all = engine.dialect_credentials(app.id).await.map_err(err)?;
    if args.json {
        println!("{}", dialects_json(&all));
    } else {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "application {} ({})", app.name, app.client_id);
        print_dialects(&mut out, &all);
    }
    Ok(())
}

/// The dialect credentials as `hubbub app create --json` and `app credentials --json`
/// print them: one object per dialect, in the dialect's own words.
pub fn dialects_json(all: &[DialectCredential]) -> Value {
    let mut map = serde_json::Map::new();
    for c in all {
        let value = match c.dialect {
            Dialect::Prism => json!({"client_id": c.key, "client_secret": c.secret}),
            Dialect::Kitkot => json!({"api_key": c.key}),
            Dialect::Allmine => json!({"issuer": c.key, "jwt_secret": c.secret}),
            Dialect::Tencent => json!({
                "sdkappid": c.key.parse::<u64>().map(Value::from).unwrap_or(Value::from(c.key.clone())),
                "key": c.secret,
                "admins": c.admins,
            }),
        };
        map.insert(c.dialect.as_str().to_owned(), value);
    }
    Value::Object(map)
}

pub fn print_dialects(out: &mut impl Write, all: &[DialectCredential]) {
    for c in all {
        let _ = match c.dialect {
            Dialect::Prism => writeln!(
                out,
                "  prism:   client_id {}  client_secret {}",
                c.key, c.secret
            ),
            Dialect::Kitkot => writeln!(out, "  kitkot:  api_key {}", c.key),
            Dialect::Allmine => {
                writeln!(out, "  allmine: issuer {}  jwt_secret {}", c.key, c.secret)
            }
            Dialect::Tencent => writeln!(
                out,
                "  tencent: sdkappid {}  key {}  admins {}",
                c.key,
                c.secret,
                c.admins.join(",")
            ),
        };
    }
}

pub async fn password(engine: &Engine, args: PasswordArgs) -> anyhow::Result<()> {
    let app = application(engine, &args.app).await?;
    let actor = Actor::App(app.id);
    let name = UserName::parse(&args.user).map_err(|e| anyhow::anyhow!("{e}"))?;
    let exists = engine
        .resolve_user(app.id, &UserRef::Name(name.clone()))
        .await
        .is_ok();
    if !exists {
        if !args.create {
            anyhow::bail!("no user named {:?} (use --create)", args.user);
        }
        engine
            .create_user(
                &actor,
                CreateUser {
                    name: args.user.clone(),
                    display_name: None,
                    is_guest: false,
                    kind: UserKind::Person,
                    properties: json!({}),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let password = if args.clear {
        None
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    };
    engine
        .set_user_password(&actor, &UserRef::Name(name), password.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "password of {} {}",
        args.user,
        if args.clear { "removed" } else { "set" }
    );
    Ok(())
}

/// Prints a ready credential of `kind` for a user (standard output: the token alone).
pub async fn token(
    engine: &Engine,
    client_id: &str,
    user: &str,
    ttl: Duration,
    kind: TokenKind,
) -> anyhow::Result<()> {
    let err = |e: hubbub_core::Error| anyhow::anyhow!("{e}");
    if kind == TokenKind::Realtime {
        let (token, _) = engine
            .mint_realtime_token(client_id, user, ttl)
            .await
            .map_err(err)?;
        println!("{token}");
        return Ok(());
    }
    let app = application(engine, client_id).await?;
    let name = UserName::parse(user).map_err(err)?;
    let user = engine
        .resolve_user(app.id, &UserRef::Name(name))
        .await
        .map_err(|_| anyhow::anyhow!("no user named {user:?} in this application"))?;
    match kind {
        TokenKind::Prism => {
            let pair = engine
                .issue_prism_tokens(app.id, user.id)
                .await
                .map_err(err)?;
            println!("{}", pair.access_token);
            eprintln!(
                "refresh_token {} (access expires in {} s)",
                pair.refresh_token,
                pair.expires_in.as_secs()
            );
        }
        TokenKind::Kitkot => {
            println!(
                "{}",
                engine
                    .issue_kitkot_session(app.id, user.id)
                    .await
                    .map_err(err)?
            );
        }
        TokenKind::Allmine => {
            let pair = engine
                .issue_allmine_tokens(app.id, user.id)
                .await
                .map_err(err)?;
            println!("{}", pair.access_token);
            eprintln!(
                "refresh_token {} (access expires in {} s)",
                pair.refresh_token,
                pair.expires_in.as_secs()
            );
        }
        TokenKind::Realtime => unreachable!("handled above"),
    }
    Ok(())
}
