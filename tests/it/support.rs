//! Shared test scaffolding: a local catalog seeded from YAML, an SDK client pointed at it, and
//! the real `sc-assoc` binary run against it with an environment that holds no real AWS
//! settings.

use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, Seed};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

pub const ACCESS_KEY: &str = "AKIDTESTEXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI-test-secret-do-not-print";
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessiontoken-must-not-leak";

/// A small account: two products, four artifacts, four actions.
pub const SMALL_SEED: &str = r#"
products:
  - id: prod-web
    name: Web Server
    artifacts:
      - {id: pa-web-v1, name: v1}
      - {id: pa-web-v2, name: v2}
  - id: prod-db
    name: Database
    artifacts:
      - {id: pa-db-v1, name: v1}
      - {id: pa-db-v2, name: v2}
actions:
  - {id: act-restart, name: Restart}
  - {id: act-patch, name: Patch}
  - {id: act-backup, name: Backup}
  - {id: act-stop, name: Stop}
associations:
  - {product: prod-web, artifact: pa-web-v1, action: act-restart}
"#;

pub async fn start_catalog(seed: &str) -> LocalCatalog {
    start_catalog_with(seed, Faults::default()).await
}

pub async fn start_catalog_with(seed: &str, faults: Faults) -> LocalCatalog {
    let config = CatalogConfig {
        seed: Seed::from_yaml_str(seed).expect("test seed parses"),
        faults,
        ..CatalogConfig::default()
    };
    start_config(config).await
}

pub async fn start_config(config: CatalogConfig) -> LocalCatalog {
    LocalCatalog::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("local catalog starts")
}

pub fn client_options(catalog: &LocalCatalog) -> AwsOptions {
    AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some("us-east-1".to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: ACCESS_KEY.to_string(),
            secret_access_key: SECRET_KEY.to_string(),
        }),
        ..AwsOptions::default()
    }
}

pub async fn client(catalog: &LocalCatalog) -> AwsCatalog {
    AwsCatalog::connect(&client_options(catalog))
        .await
        .expect("client connects")
}

/// Writes `text` to `name` inside `dir` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create fixture dir");
    }
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// The outcome of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `sc-assoc ARGS` against `endpoint` (if any) with test credentials and no real AWS
/// configuration reachable: no profile files, no instance metadata.
pub async fn sc_assoc(endpoint: Option<&str>, args: &[&str]) -> Run {
    sc_assoc_env(endpoint, args, &[]).await
}

/// The environment every test run of the binary gets: test credentials and no real AWS
/// configuration (empty files rather than missing ones: aws-config warns about a missing file;
/// no instance metadata).
pub const TEST_AWS_ENV: [(&str, &str); 7] = [
    ("AWS_CONFIG_FILE", "/dev/null"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
    ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ("NO_COLOR", "1"),
];

/// The binary with `args`, pointed at `endpoint`, in an environment with test credentials and
/// no real AWS configuration.
pub fn command(endpoint: Option<&str>, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_sc-assoc"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(TEST_AWS_ENV);
    if let Some(url) = endpoint {
        command.arg("--endpoint-url").arg(url);
    }
    command
}

pub async fn sc_assoc_env(endpoint: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = command(endpoint, args);
    for (key, value) in env {
        if value.is_empty() {
            command.env_remove(key);
        } else {
            command.env(key, value);
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().await.expect("the binary runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The local catalog of `tests/fixtures/catalog/accounts.yaml`: a hub and two spokes, the same
/// names with other ids in each account and region, roles the hub may assume.
pub async fn accounts_catalog() -> LocalCatalog {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/catalog/accounts.yaml"
    );
    let file =
        sc_assoc::local::SeedFile::from_file(std::path::Path::new(path)).expect("fixture parses");
    start_config(CatalogConfig::from_seed_file(file)).await
}
