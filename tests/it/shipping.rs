//! What a user installs: `--version` names the version and the commit (and the build script
//! falls back to "unknown" outside a checkout of this package), the Dockerfile copies the binary
//! `cargo build --release` produces, the package carries the metadata and license files it
//! declares, and the SDK client the binary builds speaks verified TLS to an `https://` endpoint
//! using the system's roots (proved against a local TLS server, no network).

use crate::support::{command, write_file};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// What the build script should have found, worked out here independently.
fn expected_commit() -> String {
    if let Ok(given) = std::env::var("SC_ASSOC_COMMIT")
        && !given.trim().is_empty()
    {
        return given.trim().to_string();
    }
    let top = git(root(), &["rev-parse", "--show-toplevel"]);
    let at_root =
        top.is_some_and(|top| Path::new(&top).canonicalize().ok() == root().canonicalize().ok());
    if !at_root {
        return "unknown".to_string();
    }
    git(root(), &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
}

#[tokio::test]
async fn version_names_the_package_version_and_the_commit() {
    let expected = format!(
        "sc-assoc {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        expected_commit()
    );
    for flag in ["--version", "-V"] {
        let run = crate::support::sc_assoc(None, &[flag]).await;
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout, expected, "{flag}");
    }
}

/// Compiles build.rs on its own and runs it the way Cargo would, in `dir`.
fn run_build_script(dir: &Path, env: &[(&str, &str)]) -> String {
    let out = tempfile::tempdir().unwrap();
    let exe = out.path().join("build-script");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let compiled = Command::new(rustc)
        .args(["--edition", "2024", "-o"])
        .arg(&exe)
        .arg(root().join("build.rs"))
        .output()
        .expect("rustc runs");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let mut run = Command::new(&exe);
    run.env_remove("SC_ASSOC_COMMIT")
        .env("CARGO_MANIFEST_DIR", dir)
        .current_dir(dir);
    for (k, v) in env {
        run.env(k, v);
    }
    let output = run.output().expect("build script runs");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn outside_a_checkout_of_its_own_the_commit_is_unknown() {
    let line = "cargo:rustc-env=SC_ASSOC_COMMIT=";
    // An unpacked crate tarball: no repository at all.
    let plain = tempfile::tempdir().unwrap();
    let printed = run_build_script(plain.path(), &[]);
    assert!(printed.contains(&format!("{line}unknown\n")), "{printed}");
    // The same tarball unpacked inside someone else's repository: not that repository's commit.
    let outer = tempfile::tempdir().unwrap();
    let git_ok = Command::new("git")
        .args(["init", "-q"])
        .arg(outer.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        git_ok,
        "git is needed to build with a commit, and for this test"
    );
    let inner = outer.path().join("vendor/sc-assoc");
    std::fs::create_dir_all(&inner).unwrap();
    let printed = run_build_script(&inner, &[]);
    assert!(printed.contains(&format!("{line}unknown\n")), "{printed}");
    // A build that knows its commit without .git (the Dockerfile's build argument).
    let printed = run_build_script(plain.path(), &[("SC_ASSOC_COMMIT", "abc1234")]);
    assert!(printed.contains(&format!("{line}abc1234\n")), "{printed}");
}

#[test]
fn the_package_declares_its_metadata_and_ships_its_licenses() {
    for (field, value) in [
        ("description", env!("CARGO_PKG_DESCRIPTION")),
        ("license", env!("CARGO_PKG_LICENSE")),
        ("repository", env!("CARGO_PKG_REPOSITORY")),
        ("rust-version", env!("CARGO_PKG_RUST_VERSION")),
    ] {
        assert!(!value.is_empty(), "Cargo.toml has no {field}");
    }
    assert_eq!(env!("CARGO_PKG_LICENSE"), "MIT OR Apache-2.0");
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap_or_default();
        assert!(text.len() > 500, "{file} is missing or empty");
    }
}

/// Measured for issue 14: with a `[profile.release.package.sc-assoc]` section that does not
/// repeat `strip`, Cargo built the binary with `-C strip=debuginfo` whatever the profile said,
/// and 4.6 MB of symbol table shipped. Nothing else would notice: the binary still works.
#[test]
fn the_release_override_for_sc_assoc_still_strips_symbols() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let section: Vec<&str> = manifest
        .lines()
        .skip_while(|line| line.trim() != "[profile.release.package.sc-assoc]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .collect();
    assert!(
        !section.is_empty(),
        "no [profile.release.package.sc-assoc] section: if it went, delete this test"
    );
    assert!(
        section.iter().any(
            |line| line.split('#').next().unwrap_or("").replace(' ', "") == "strip=\"symbols\""
        ),
        "the sc-assoc release override must repeat strip = \"symbols\": {section:?}"
    );
}

/// A Dockerfile instruction: the keyword and the rest of the (continued) line.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let whole = std::mem::take(&mut pending);
        let (keyword, rest) = whole.split_once(' ').unwrap_or((&whole, ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_string()));
    }
    out
}

#[test]
fn the_docker_image_copies_the_binary_cargo_build_release_produces() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let steps = instructions(&text);
    // The build stage: its name, its working directory and its cargo command.
    let from = steps.iter().position(|(k, _)| k == "FROM").expect("a FROM");
    let stage = steps[from]
        .1
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("AS"))
        .map(|w| w[1].to_string())
        .expect("the build stage is named");
    let next_from = steps[from + 1..]
        .iter()
        .position(|(k, _)| k == "FROM")
        .map(|i| i + from + 1)
        .expect("a second stage");
    let build_stage = &steps[from..next_from];
    let workdir = build_stage
        .iter()
        .rev()
        .find(|(k, _)| k == "WORKDIR")
        .map(|(_, v)| v.clone())
        .expect("the build stage sets WORKDIR");
    let cargo = build_stage
        .iter()
        .filter(|(k, _)| k == "RUN")
        .find(|(_, v)| v.contains("cargo build"))
        .map(|(_, v)| v.clone())
        .expect("the build stage runs cargo build");
    let words: Vec<&str> = cargo.split_whitespace().collect();
    assert!(
        words.contains(&"--release") && words.contains(&"--locked"),
        "{cargo}"
    );
    for moved in ["--target", "--target-dir", "--profile", "CARGO_TARGET_DIR"] {
        assert!(
            !cargo.contains(moved) && !text.contains(&format!("ENV {moved}")),
            "`{moved}` would move the binary away from target/release: {cargo}"
        );
    }
    assert!(
        build_stage
            .iter()
            .any(|(k, v)| k == "COPY" && v.contains("Cargo.lock")),
        "--locked needs Cargo.lock in the image"
    );
    // What the runtime stage copies, and from where.
    let runtime = &steps[next_from..];
    let copy = runtime
        .iter()
        .find(|(k, v)| k == "COPY" && v.starts_with("--from="))
        .map(|(_, v)| v.clone())
        .expect("the runtime stage copies from the build stage");
    let parts: Vec<&str> = copy.split_whitespace().collect();
    assert_eq!(parts.len(), 3, "{copy}");
    assert_eq!(parts[0], format!("--from={stage}"));
    // The binary Cargo builds for this package: its name as Cargo gives it to the tests, in
    // target/<profile>/ — `release` for `cargo build --release`.
    let built = PathBuf::from(env!("CARGO_BIN_EXE_sc-assoc"));
    let name = built.file_name().unwrap().to_str().unwrap();
    assert_eq!(name, env!("CARGO_PKG_NAME"));
    let expected = format!("{}/target/release/{name}", workdir.trim_end_matches('/'));
    assert_eq!(parts[1], expected, "{copy}");
    let installed = parts[2];
    let entrypoint = runtime
        .iter()
        .find(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, v)| v.clone())
        .expect("an ENTRYPOINT");
    let entrypoint: Vec<String> = serde_json::from_str(&entrypoint).expect("exec form");
    assert_eq!(entrypoint, [installed.to_string()]);
    // The build context must hold what the build reads, including what the sources embed.
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).expect(".dockerignore");
    for kept in [
        "!Cargo.toml",
        "!Cargo.lock",
        "!build.rs",
        "!src/",
        "!examples/",
    ] {
        assert!(
            ignore.lines().any(|l| l == kept),
            ".dockerignore drops {kept}"
        );
    }
}

const TLS_MANIFEST: &str = "version: 1\nassociations:\n  - product: prod-web\n    artifact: pa-web-v1\n    action: act-restart\n";

/// A TLS server on localhost with the test certificate; answers every HTTP request with a
/// Service Catalog error whose message names it, and reports each request's head.
async fn tls_server() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = root().join("tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (heads, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, heads) = (acceptor.clone(), heads.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends here, having sent no request.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let _ = heads.send(String::from_utf8_lossy(&head).into_owned());
                let body = r#"{"__type":"InvalidParametersException","message":"answered over verified TLS"}"#;
                let reply = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn the_client_speaks_verified_tls_with_the_system_roots() {
    let (port, mut heads) = tls_server().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", TLS_MANIFEST);
    let endpoint = format!("https://localhost:{port}");
    let ca = root().join("tests/fixtures/tls/ca.pem");

    // The test CA as the system's trust store (rustls-native-certs reads SSL_CERT_FILE): the
    // handshake succeeds and the request arrives signed.
    let mut trusted = command(
        Some(&endpoint),
        &["plan", manifest.to_str().unwrap(), "--no-progress"],
    );
    trusted.env("SSL_CERT_FILE", &ca);
    let run = trusted.output().await.expect("the binary runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("answered over verified TLS"), "{stderr}");
    // plan may have made more than one call before the error stopped it; each came over TLS.
    let mut requests = 0;
    while let Ok(head) = heads.try_recv() {
        let lower = head.to_ascii_lowercase();
        assert!(lower.starts_with("post / http/1.1\r\n"), "{head}");
        assert!(
            lower.contains("\r\nauthorization: aws4-hmac-sha256 "),
            "{head}"
        );
        assert!(
            lower.contains("\r\nx-amz-target: aws242servicecatalogservice."),
            "{head}"
        );
        requests += 1;
    }
    assert!(requests >= 1, "no request arrived over TLS");

    // The machine's own roots do not include the test CA: the client refuses the certificate,
    // so no request is ever sent.
    let mut untrusted = command(
        Some(&endpoint),
        &[
            "plan",
            manifest.to_str().unwrap(),
            "--no-progress",
            "--call-timeout",
            "2",
        ],
    );
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), untrusted.output())
        .await
        .expect("an untrusted server fails the run in bounded time")
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error"), "{stderr}");
    assert!(
        heads.try_recv().is_err(),
        "a request went to an untrusted server: {stderr}"
    );
}
