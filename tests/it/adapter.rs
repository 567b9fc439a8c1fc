//! The SDK adapter against the local catalog over real HTTP: every operation of the seam, every
//! error code mapped with its message and request id, paging to the end, and the retry policy
//! (throttling and 5xx retried, the quota error not).

use crate::support::{
    SMALL_SEED, client, client_options, start_catalog, start_catalog_with, start_config,
};
use sc_assoc::aws::AwsCatalog;
use sc_assoc::local::{CatalogConfig, Faults, Seed};
use sc_assoc::seam::{Catalog, ErrorKind, ProductKey};
use sc_assoc::triple::Triple;

fn triple(product: &str, artifact: &str, action: &str) -> Triple {
    Triple::new(product, artifact, action)
}

#[tokio::test]
async fn every_read_operation_answers_in_the_projects_types() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;

    let actions = sdk
        .list_actions_for_artifact("prod-web", "pa-web-v1")
        .await
        .unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(
        (actions[0].id.as_str(), actions[0].name.as_deref()),
        ("act-restart", Some("Restart"))
    );

    let views = sdk.list_artifacts_for_action("act-restart").await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(
        (views[0].product_id.as_str(), views[0].artifact_id.as_str()),
        ("prod-web", "pa-web-v1")
    );
    assert_eq!(views[0].product_name.as_deref(), Some("Web Server"));

    let all_actions = sdk.list_service_actions().await.unwrap();
    assert_eq!(all_actions.len(), 4);
    let described = sdk.describe_service_action("act-patch").await.unwrap();
    assert_eq!(described.summary.name.as_deref(), Some("Patch"));

    let products = sdk.search_products(None).await.unwrap();
    assert_eq!(products.len(), 2);
    let found = sdk.search_products(Some("web")).await.unwrap();
    assert_eq!(
        found.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec!["prod-web"]
    );

    let (product, artifacts) = sdk
        .describe_product(&ProductKey::Name("Database".into()))
        .await
        .unwrap();
    assert_eq!(product.id, "prod-db");
    assert_eq!(artifacts.len(), 2);
    let (by_id, _) = sdk
        .describe_product(&ProductKey::Id("prod-db".into()))
        .await
        .unwrap();
    assert_eq!(by_id.name.as_deref(), Some("Database"));

    let listed = sdk.list_provisioning_artifacts("prod-web").await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].active, Some(true));
    assert_eq!(listed[0].guidance.as_deref(), Some("DEFAULT"));
    let detail = sdk
        .describe_provisioning_artifact("prod-web", "pa-web-v2")
        .await
        .unwrap();
    assert_eq!(detail.name.as_deref(), Some("v2"));
}

#[tokio::test]
async fn writes_associate_and_disassociate_one_triple_or_a_batch() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;
    let one = triple("prod-db", "pa-db-v1", "act-stop");
    sdk.associate(&one, "token-1").await.unwrap();
    assert!(catalog.associations().contains(&one));
    sdk.disassociate(&one, "token-2").await.unwrap();
    assert!(!catalog.associations().contains(&one));

    let batch = vec![
        triple("prod-db", "pa-db-v2", "act-stop"),
        triple("prod-web", "pa-web-v1", "act-restart"),
        triple("prod-db", "pa-nope", "act-stop"),
    ];
    let failures = sdk.batch_associate(&batch).await.unwrap();
    let codes: Vec<(&str, &str)> = failures
        .iter()
        .map(|f| (f.triple.artifact.as_str(), f.code.as_str()))
        .collect();
    assert_eq!(codes.len(), 2, "{failures:?}");
    assert!(codes.contains(&("pa-web-v1", "DUPLICATE_RESOURCE")));
    assert!(codes.contains(&("pa-nope", "RESOURCE_NOT_FOUND")));
    let failures = sdk.batch_disassociate(&batch[..2]).await.unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(catalog.associations().is_empty());
}

#[tokio::test]
async fn service_errors_keep_code_message_and_request_id() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;

    let duplicate = sdk
        .associate(&triple("prod-web", "pa-web-v1", "act-restart"), "t-dup")
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind, ErrorKind::Duplicate);
    assert_eq!(duplicate.code, "DuplicateResourceException");
    assert!(duplicate.request_id.is_some());
    assert!(
        duplicate
            .to_string()
            .starts_with("DuplicateResourceException: ")
    );

    let missing = sdk
        .associate(&triple("prod-web", "pa-db-v1", "act-restart"), "t-nf")
        .await
        .unwrap_err();
    assert_eq!(
        (missing.kind, missing.code.as_str()),
        (ErrorKind::NotFound, "ResourceNotFoundException")
    );
    assert!(!missing.message.is_empty());

    let long_id = "a".repeat(101);
    let invalid = sdk
        .list_actions_for_artifact(&long_id, "pa-web-v1")
        .await
        .unwrap_err();
    // Model constraints are AWS's ValidationException (issue 11), still InvalidParameters to
    // the reconciler.
    assert_eq!(
        (invalid.kind, invalid.code.as_str()),
        (ErrorKind::InvalidParameters, "ValidationException")
    );
    assert!(invalid.message.contains("'productId'"), "{invalid}");

    let gone = sdk
        .disassociate(&triple("prod-db", "pa-db-v1", "act-stop"), "t-gone")
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn the_quota_error_is_final_and_not_retried() {
    let config = CatalogConfig {
        seed: Seed::from_yaml_str(SMALL_SEED).unwrap(),
        max_actions_per_artifact: 1,
        ..CatalogConfig::default()
    };
    let catalog = start_config(config).await;
    let sdk = client(&catalog).await;
    let error = sdk
        .associate(&triple("prod-web", "pa-web-v1", "act-patch"), "t-quota")
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_str()),
        (ErrorKind::LimitExceeded, "LimitExceededException")
    );
    assert_eq!(
        catalog.stats().calls["AssociateServiceActionWithProvisioningArtifact"],
        1
    );
}

#[tokio::test]
async fn lists_are_paged_to_the_end_twenty_at_a_time() {
    let mut seed = Seed::from_yaml_str(SMALL_SEED).unwrap();
    let artifacts: Vec<(String, String)> = (0..45)
        .map(|i| (format!("pa-many-{i:02}"), format!("v{i}")))
        .collect();
    seed.add_product("prod-many", "Many", artifacts);
    for i in 0..45 {
        seed.add_action(format!("act-many-{i:02}"), format!("Many {i}"));
        seed.add_association(triple(
            "prod-many",
            &format!("pa-many-{i:02}"),
            "act-restart",
        ));
    }
    for i in 0..23 {
        seed.add_association(triple(
            "prod-many",
            "pa-many-00",
            &format!("act-many-{i:02}"),
        ));
    }
    let catalog = start_config(CatalogConfig {
        seed,
        ..CatalogConfig::default()
    })
    .await;
    let sdk = client(&catalog).await;

    let views = sdk.list_artifacts_for_action("act-restart").await.unwrap();
    assert_eq!(views.len(), 46);
    let actions = sdk
        .list_actions_for_artifact("prod-many", "pa-many-00")
        .await
        .unwrap();
    assert_eq!(actions.len(), 24);
    let all = sdk.list_service_actions().await.unwrap();
    assert_eq!(all.len(), 49);
    let calls = catalog.stats().calls;
    assert_eq!(calls["ListProvisioningArtifactsForServiceAction"], 3);
    assert_eq!(calls["ListServiceActionsForProvisioningArtifact"], 2);
    assert_eq!(calls["ListServiceActions"], 3);
    let counted = sdk.call_counts();
    assert_eq!(counted["ListServiceActions"], 3);
}

#[tokio::test]
async fn throttled_calls_are_retried_to_success() {
    let faults = Faults {
        rate: Some(5.0),
        burst: 1,
        ..Faults::default()
    };
    let catalog = start_catalog_with(SMALL_SEED, faults).await;
    let sdk = client(&catalog).await;
    let results =
        futures::future::join_all(["pa-web-v1", "pa-web-v2", "pa-db-v1"].iter().map(|a| {
            let product = if a.starts_with("pa-web") {
                "prod-web"
            } else {
                "prod-db"
            };
            let sdk = &sdk;
            async move { sdk.list_actions_for_artifact(product, a).await }
        }))
        .await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert!(catalog.stats().throttled > 0);
}

#[tokio::test]
async fn server_errors_are_retried_to_success() {
    let faults = Faults {
        error_rate: 0.5,
        rng_seed: 3,
        ..Faults::default()
    };
    let catalog = start_catalog_with(SMALL_SEED, faults).await;
    let sdk = client(&catalog).await;
    for _ in 0..6 {
        sdk.list_service_actions().await.unwrap();
    }
    assert!(catalog.stats().injected_errors > 0);
}

#[tokio::test]
async fn refused_credentials_are_an_auth_error_without_retries() {
    let config = CatalogConfig {
        seed: Seed::from_yaml_str(SMALL_SEED).unwrap(),
        expired_access_keys: vec![crate::support::ACCESS_KEY.to_string()],
        ..CatalogConfig::default()
    };
    let catalog = start_config(config).await;
    let sdk = AwsCatalog::connect(&client_options(&catalog))
        .await
        .unwrap();
    let error = sdk.list_service_actions().await.unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_str()),
        (ErrorKind::Auth, "ExpiredTokenException")
    );
    assert_eq!(catalog.stats().total_calls, 1);
}

#[tokio::test]
async fn retries_that_run_out_keep_the_last_code_and_kind() {
    let faults = Faults {
        error_rate: 1.0,
        ..Faults::default()
    };
    let catalog = start_catalog_with(SMALL_SEED, faults).await;
    let few_attempts = sc_assoc::aws::AwsOptions {
        max_attempts: 2,
        ..client_options(&catalog)
    };
    let sdk = AwsCatalog::connect(&few_attempts).await.unwrap();
    let error = sdk.list_service_actions().await.unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_str()),
        (ErrorKind::Server, "InternalFailure")
    );
    assert_eq!(catalog.stats().total_calls, 2, "one call, two attempts");

    catalog.set_faults(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    });
    catalog.reset_stats();
    let error = sdk
        .associate(&triple("prod-db", "pa-db-v1", "act-stop"), "t-throttled")
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind, error.code.as_str()),
        (ErrorKind::Throttled, "ThrottlingException")
    );
    assert_eq!(catalog.stats().total_calls, 2);
}
