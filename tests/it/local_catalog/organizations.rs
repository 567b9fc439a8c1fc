//! AWS Organizations at the local catalog, through the shipped SDK client (`AwsOrganization`)
//! and `org::expand`: nested OUs, suspended accounts, paging past 20, who may list, an
//! organisation that does not exist, an OU that does not exist, and an account that joins.

use sc_assoc::aws::{AwsBase, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, LocalCatalog, SeedFile};
use sc_assoc::org::{OrgError, expand};
use std::fmt::Write;

/// A management account (with its key), a member (with its key), 45 accounts in one OU below
/// a nested one, one of them suspended.
fn seed(organization: bool) -> String {
    let mut seed = String::from(
        "accounts:\n\
         \x20 - {id: \"111111111111\", access_keys: [AKIDMGMT], regions: {us-east-1: {}}}\n\
         \x20 - {id: \"222222222222\", access_keys: [AKIDMEMBER], regions: {us-east-1: {}}}\n",
    );
    if !organization {
        return seed;
    }
    seed.push_str(
        "organization:\n  management_account: \"111111111111\"\n  root: r-ab12\n  units:\n\
         \x20   - {id: ou-ab12-00000001, name: Workloads}\n\
         \x20   - {id: ou-ab12-00000002, name: Prod, parent: ou-ab12-00000001}\n\
         \x20   - {id: ou-ab12-00000003, name: Sandbox}\n\
         \x20 members:\n\
         \x20   - {account: \"111111111111\"}\n\
         \x20   - {account: \"222222222222\", parent: ou-ab12-00000001}\n",
    );
    for n in 0..45 {
        let status = if n == 7 { "SUSPENDED" } else { "ACTIVE" };
        let _ = writeln!(
            seed,
            "    - {{account: \"3000000000{n:02}\", parent: ou-ab12-00000002, status: {status}}}"
        );
    }
    seed
}

async fn start(organization: bool) -> LocalCatalog {
    let file = SeedFile::from_yaml_str(&seed(organization)).expect("seed parses");
    LocalCatalog::start(
        CatalogConfig::from_seed_file(file),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .expect("starts")
}

async fn base(catalog: &LocalCatalog, key: &str) -> AwsBase {
    AwsBase::load(&AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some("us-east-1".to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: key.to_string(),
            secret_access_key: "secret".to_string(),
        }),
        ..AwsOptions::default()
    })
    .await
    .expect("base loads")
}

#[tokio::test]
async fn a_nested_unit_expands_page_by_page_to_its_active_accounts() {
    let catalog = start(true).await;
    let org = base(&catalog, "AKIDMGMT").await.organization(None);
    let expanded = expand(&org, &["ou-ab12-00000001".to_string()], 4)
        .await
        .expect("expands");
    let unit = &expanded[0];
    assert_eq!(unit.accounts.len(), 45, "{unit:?}");
    assert!(unit.accounts.iter().any(|a| a.id == "222222222222"));
    assert_eq!(unit.skipped.len(), 1);
    assert_eq!(unit.skipped[0].id, "300000000007");
    assert_eq!(unit.skipped[0].status, "SUSPENDED");
    assert_eq!(unit.units_visited, 2);
    // 44 accounts below Prod: three pages of at most 20.
    let calls = catalog.organization_calls();
    assert_eq!(calls.get("ListAccountsForParent"), Some(&4), "{calls:?}");
    assert_eq!(
        calls.get("ListOrganizationalUnitsForParent"),
        Some(&2),
        "{calls:?}"
    );
    assert_eq!(org.call_counts().get("ListAccountsForParent"), Some(&4));

    // The whole organisation from the root.
    let root = expand(&org, &["r-ab12".to_string()], 4)
        .await
        .expect("expands");
    assert_eq!(root[0].accounts.len(), 46);
    assert_eq!(root[0].units_visited, 4);

    // An account that joins is there the next time.
    assert!(catalog.join_organization("399999999999", Some("ou-ab12-00000003"), "ACTIVE"));
    let sandbox = expand(&org, &["ou-ab12-00000003".to_string()], 4)
        .await
        .expect("expands");
    assert_eq!(sandbox[0].accounts.len(), 1);
    assert_eq!(sandbox[0].accounts[0].id, "399999999999");
    catalog.shutdown().await;
}

#[tokio::test]
async fn who_may_list_and_what_exists_are_told_as_organizations_tells_them() {
    let catalog = start(true).await;
    let member = base(&catalog, "AKIDMEMBER").await.organization(None);
    let denied = expand(&member, &["r-ab12".to_string()], 2)
        .await
        .expect_err("a member account may not list");
    assert!(matches!(denied, OrgError::Denied { .. }), "{denied:?}");
    assert_eq!(
        denied.api_error().map(|e| e.code.as_str()),
        Some("AccessDeniedException")
    );
    assert!(denied.hint().is_some());

    let management = base(&catalog, "AKIDMGMT").await.organization(None);
    let missing = expand(&management, &["ou-ab12-99999999".to_string()], 2)
        .await
        .expect_err("no such unit");
    assert!(matches!(missing, OrgError::NotFound { .. }), "{missing:?}");
    assert_eq!(
        missing.api_error().map(|e| e.code.as_str()),
        Some("ParentNotFoundException")
    );
    catalog.shutdown().await;

    let alone = start(false).await;
    let org = base(&alone, "AKIDMGMT").await.organization(None);
    let not_in_use = expand(&org, &["r-ab12".to_string()], 2)
        .await
        .expect_err("no organisation");
    assert!(
        matches!(not_in_use, OrgError::NotInUse { .. }),
        "{not_in_use:?}"
    );
    alone.shutdown().await;
}

/// `POST /_organization` to the catalog's control endpoint: the status and the JSON answer.
async fn post_join(catalog: &LocalCatalog, body: &str) -> (u16, serde_json::Value) {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let request = hyper::Request::post(format!("{}/_organization", catalog.endpoint()))
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let response = http.request(request).await.expect("http");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn the_control_endpoint_moves_an_account_as_joining_or_suspension_does() {
    let catalog = start(true).await;
    let org = base(&catalog, "AKIDMGMT").await.organization(None);
    let (status, answer) = post_join(
        &catalog,
        r#"{"account": "399999999999", "parent": "ou-ab12-00000003"}"#,
    )
    .await;
    assert_eq!(
        (status, &answer["changed"]),
        (200, &serde_json::json!(true))
    );
    let sandbox = expand(&org, &["ou-ab12-00000003".to_string()], 2)
        .await
        .expect("expands");
    assert_eq!(sandbox[0].accounts[0].id, "399999999999");

    // Suspended in place: skipped and named.
    let (status, _) = post_join(
        &catalog,
        r#"{"account": "399999999999", "parent": "ou-ab12-00000003", "status": "SUSPENDED"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let sandbox = expand(&org, &["ou-ab12-00000003".to_string()], 2)
        .await
        .expect("expands");
    assert!(sandbox[0].accounts.is_empty());
    assert_eq!(sandbox[0].skipped[0].status, "SUSPENDED");

    for (body, expected) in [
        (r#"{"account": "3999"}"#, 400),
        (r#"{"account": "399999999999", "status": "GONE"}"#, 400),
        (
            r#"{"account": "399999999999", "parent": "ou-ab12-99999999"}"#,
            404,
        ),
        ("not json", 400),
    ] {
        let (status, answer) = post_join(&catalog, body).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(answer["message"].is_string(), "{body}: {answer}");
    }
    catalog.shutdown().await;
}

#[tokio::test]
async fn an_adaptive_pacer_is_told_every_answer_so_it_can_leave_its_cautious_start() {
    let catalog = start(true).await;
    let pacer = std::sync::Arc::new(sc_assoc::pace::Pacer::adaptive());
    let org = base(&catalog, "AKIDMGMT")
        .await
        .organization(Some(pacer.clone()));
    expand(&org, &["r-ab12".to_string()], 4)
        .await
        .expect("expands");
    let calls: u64 = catalog.organization_calls().values().sum();
    assert!(calls >= 8, "{calls}");
    assert_eq!(pacer.answers(), calls);
    catalog.shutdown().await;
}
