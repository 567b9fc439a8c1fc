//! The two forms of a seed: the original one (products, actions and associations at the top
//! level), which keeps meaning the default account and is now that account in every region, each
//! region its own copy; accounts built in code, validated as seed files are; and
//! `sc-assoc local-catalog --seed` serving the accounts form.

use super::accounts::{FIXTURE, HUB, SPOKE_A, between, sc, sts};
use super::*;
use sc_assoc::local::{DEFAULT_ACCOUNT, SeedAccount, SeedRole};
use tokio::io::AsyncBufReadExt;

#[tokio::test]
async fn an_original_form_seed_is_the_default_account_in_every_region() {
    let h = Harness::seeded(SEED).await;
    let t = Triple::new("prod-web", "pa-web-v1", "act-patch");
    // Any key, any region; each region starts from the seed and then goes its own way.
    sc(
        &h,
        "AKIDWHOEVER",
        None,
        "eu-central-1",
        ASSOCIATE,
        triple_body(&t.product, &t.artifact, &t.action),
    )
    .await
    .ok();
    let west = h
        .catalog
        .associations_in(DEFAULT_ACCOUNT, "eu-central-1")
        .expect("created");
    assert!(west.contains(&t));
    assert!(
        !h.catalog.associations().contains(&t),
        "us-east-1 is untouched"
    );
    assert_eq!(h.catalog.associations().len(), 1);
    assert_eq!(
        h.catalog.associations_in(DEFAULT_ACCOUNT, "us-east-1"),
        Some(h.catalog.associations())
    );
    sc(
        &h,
        "AKIDWHOEVER",
        None,
        "not-a-region",
        "ListServiceActions",
        json!({}),
    )
    .await
    .err(400, "UnrecognizedClientException");
    // No roles in this form: every AssumeRole is refused.
    let (status, xml) = sts(
        &h,
        "AKIDWHOEVER",
        None,
        &[
            ("Action", "AssumeRole".into()),
            ("Version", "2011-06-15".into()),
            (
                "RoleArn",
                format!("arn:aws:iam::{DEFAULT_ACCOUNT}:role/Any"),
            ),
            ("RoleSessionName", "s1".into()),
        ],
    )
    .await;
    assert_eq!(
        (status, between(&xml, "<Code>", "</Code>")),
        (403, "AccessDenied")
    );
}

#[tokio::test]
async fn accounts_built_in_code_are_validated_like_seed_files() {
    let region = Seed::from_yaml_str(SEED).expect("seed");
    let hub = SeedAccount::new(HUB)
        .with_access_key("AKIDHUB")
        .with_region("us-west-2", region.clone())
        .with_role(SeedRole::new("Admin").trusting(SPOKE_A));
    let dangling = LocalCatalog::start(
        CatalogConfig::with_accounts(vec![hub.clone()]),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await;
    assert!(format!("{:#}", dangling.err().expect("refused")).contains("not one of"));
    let both = CatalogConfig {
        seed: region,
        ..CatalogConfig::with_accounts(vec![hub.clone(), SeedAccount::new(SPOKE_A)])
    };
    let refused = LocalCatalog::start(both, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    assert!(format!("{:#}", refused.err().expect("refused")).contains("not both"));
    let h = Harness::start(CatalogConfig::with_accounts(vec![
        hub,
        SeedAccount::new(SPOKE_A),
    ]))
    .await;
    sc(
        &h,
        "AKIDHUB",
        None,
        "us-west-2",
        "ListServiceActions",
        json!({}),
    )
    .await
    .ok();
    assert_eq!(
        h.catalog.associations().len(),
        1,
        "the default target is us-west-2"
    );
}

#[tokio::test]
async fn the_local_catalog_command_serves_a_seed_with_accounts() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sc-assoc"))
        .args([
            "local-catalog",
            "--seed",
            FIXTURE,
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .expect("first line");
    let endpoint = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let resp = http
        .get(format!("{endpoint}/_stats").parse().expect("uri"))
        .await
        .expect("http");
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let stats: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(
        stats["targets"].as_array().map(Vec::len),
        Some(4),
        "{stats}"
    );
    child.kill().await.expect("stops");
}
