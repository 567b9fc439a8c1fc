//! Catalog semantics operation by operation: associations, duplicates, not-found, the quota,
//! batch per-item codes, the read operations' shapes, and seeds.

use super::*;

#[tokio::test]
async fn associate_answers_an_empty_object_and_the_association_is_listed() {
    let h = Harness::seeded(SEED).await;
    let r = h
        .call(ASSOCIATE, triple_body("prod-web", "pa-web-v1", "act-patch"))
        .await;
    assert_eq!(r.ok().body, json!({}));
    let listed = h
        .call(
            "ListServiceActionsForProvisioningArtifact",
            json!({"ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1"}),
        )
        .await;
    assert_eq!(
        ids(&listed.body, "ServiceActionSummaries"),
        ["act-patch", "act-restart"]
    );
    assert_eq!(
        listed.body["ServiceActionSummaries"][1],
        json!({"Id": "act-restart", "Name": "Restart", "Description": "Restart it", "DefinitionType": "SSM_AUTOMATION"})
    );
    assert!(listed.body.get("NextPageToken").is_none());
    assert_eq!(h.get("/_state").await.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn semantic_errors_duplicate_not_found_and_wrong_product() {
    let h = Harness::seeded(SEED).await;
    h.call(
        ASSOCIATE,
        triple_body("prod-web", "pa-web-v1", "act-restart"),
    )
    .await
    .err(400, "DuplicateResourceException");
    for (p, a, s) in [
        ("prod-nope", "pa-web-v1", "act-patch"),
        ("prod-web", "pa-nope", "act-patch"),
        ("prod-web", "pa-web-v1", "act-nope"),
        ("prod-db", "pa-web-v1", "act-patch"),
    ] {
        h.call(ASSOCIATE, triple_body(p, a, s))
            .await
            .err(400, "ResourceNotFoundException");
    }
    h.call(
        DISASSOCIATE,
        triple_body("prod-web", "pa-web-v1", "act-patch"),
    )
    .await
    .err(400, "ResourceNotFoundException");
    h.call(
        DISASSOCIATE,
        triple_body("prod-web", "pa-web-v1", "act-restart"),
    )
    .await
    .ok();
    h.call(
        "ListServiceActionsForProvisioningArtifact",
        json!({"ProductId": "prod-db", "ProvisioningArtifactId": "pa-web-v1"}),
    )
    .await
    .err(400, "ResourceNotFoundException");
    h.call(
        "ListProvisioningArtifactsForServiceAction",
        json!({"ServiceActionId": "act-nope"}),
    )
    .await
    .err(400, "ResourceNotFoundException");
    assert!(h.catalog.associations().is_empty());
}

#[tokio::test]
async fn the_26th_action_on_one_artifact_exceeds_the_limit() {
    let h = Harness::start(CatalogConfig::new(big_seed(1, 30))).await;
    for a in 0..25 {
        h.call(
            ASSOCIATE,
            triple_body("prod-000", "pa-000", &format!("act-{a:03}")),
        )
        .await
        .ok();
    }
    let r = h
        .call(ASSOCIATE, triple_body("prod-000", "pa-000", "act-025"))
        .await;
    r.err(400, "LimitExceededException");
    // Already-associated still reads as a duplicate, not as the limit.
    h.call(ASSOCIATE, triple_body("prod-000", "pa-000", "act-000"))
        .await
        .err(400, "DuplicateResourceException");
    let small = Harness::start(CatalogConfig {
        max_actions_per_artifact: 2,
        ..CatalogConfig::new(big_seed(1, 3))
    })
    .await;
    let items: Vec<Value> = (0..3)
        .map(|a| triple_body("prod-000", "pa-000", &format!("act-{a:03}")))
        .collect();
    let r = small
        .call(BATCH_ASSOCIATE, json!({"ServiceActionAssociations": items}))
        .await;
    assert_eq!(
        r.ok().body["FailedServiceActionAssociations"][0]["ErrorCode"],
        "LIMIT_EXCEEDED"
    );
}

#[tokio::test]
async fn batch_calls_report_each_failed_item_with_its_ids_code_and_message() {
    let h = Harness::seeded(SEED).await;
    let items = json!([
        triple_body("prod-web", "pa-web-v1", "act-patch"),
        triple_body("prod-web", "pa-web-v1", "act-restart"),
        triple_body("prod-db", "pa-web-v1", "act-patch"),
        triple_body("prod-web", "pa-web-v1", "act-patch"),
    ]);
    let r = h
        .call(BATCH_ASSOCIATE, json!({"ServiceActionAssociations": items}))
        .await;
    let failed = r.ok().body["FailedServiceActionAssociations"]
        .as_array()
        .cloned()
        .expect("list");
    let codes: Vec<(&str, &str)> = failed
        .iter()
        .map(|f| {
            (
                f["ProductId"].as_str().unwrap_or(""),
                f["ErrorCode"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("prod-web", "DUPLICATE_RESOURCE"),
            ("prod-db", "RESOURCE_NOT_FOUND"),
            ("prod-web", "DUPLICATE_RESOURCE")
        ]
    );
    assert!(failed.iter().all(
        |f| f["ErrorMessage"].as_str().is_some_and(|m| !m.is_empty())
            && f["ServiceActionId"].is_string()
            && f["ProvisioningArtifactId"].is_string()
    ));
    let r = h.call(BATCH_DISASSOCIATE, json!({"ServiceActionAssociations": [triple_body("prod-web", "pa-web-v1", "act-patch"), triple_body("prod-web", "pa-web-v1", "act-backup")]})).await;
    assert_eq!(
        r.ok().body,
        json!({"FailedServiceActionAssociations": [{"ServiceActionId": "act-backup", "ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1", "ErrorCode": "RESOURCE_NOT_FOUND", "ErrorMessage": "Service action act-backup is not associated with provisioning artifact pa-web-v1."}]})
    );
}

#[tokio::test]
async fn describe_and_search_answer_in_the_model_shapes() {
    let h = Harness::seeded(SEED).await;
    let by_name = h
        .call("DescribeProductAsAdmin", json!({"Name": "Web Server"}))
        .await;
    let by_id = h
        .call("DescribeProductAsAdmin", json!({"Id": "prod-web"}))
        .await;
    assert_eq!(by_name.ok().body, by_id.body);
    let summary = &by_id.body["ProductViewDetail"]["ProductViewSummary"];
    assert_eq!(
        (summary["ProductId"].as_str(), summary["Owner"].as_str()),
        (Some("prod-web"), Some("Platform"))
    );
    assert!(
        summary["Id"]
            .as_str()
            .is_some_and(|v| v.starts_with("prodview-"))
    );
    assert!(
        by_id.body["ProductViewDetail"]["CreatedTime"].is_number(),
        "epoch seconds"
    );
    assert_eq!(
        ids(&by_id.body, "ProvisioningArtifactSummaries"),
        ["pa-web-v1", "pa-web-v2"]
    );
    h.call("DescribeProductAsAdmin", json!({}))
        .await
        .err(400, "InvalidParametersException");
    h.call("DescribeProductAsAdmin", json!({"Name": "Nope"}))
        .await
        .err(400, "ResourceNotFoundException");

    let pa = h
        .call(
            "DescribeProvisioningArtifact",
            json!({"ProductName": "Web Server", "ProvisioningArtifactName": "v2"}),
        )
        .await;
    let detail = &pa.ok().body["ProvisioningArtifactDetail"];
    assert_eq!(
        (
            detail["Id"].as_str(),
            detail["Active"].as_bool(),
            detail["Guidance"].as_str()
        ),
        (Some("pa-web-v2"), Some(false), Some("DEPRECATED"))
    );
    assert_eq!(pa.body["Status"], "AVAILABLE");
    h.call(
        "DescribeProvisioningArtifact",
        json!({"ProductId": "prod-db", "ProvisioningArtifactId": "pa-web-v1"}),
    )
    .await
    .err(400, "ResourceNotFoundException");
    h.call(
        "DescribeProvisioningArtifact",
        json!({"ProductId": "prod-db"}),
    )
    .await
    .err(400, "InvalidParametersException");

    let listed = h
        .call(
            "ListProvisioningArtifacts",
            json!({"ProductId": "prod-web"}),
        )
        .await;
    assert_eq!(
        ids(&listed.body, "ProvisioningArtifactDetails"),
        ["pa-web-v1", "pa-web-v2"]
    );
    let action = h
        .call("DescribeServiceAction", json!({"Id": "act-patch"}))
        .await;
    assert_eq!(
        action.body["ServiceActionDetail"]["Definition"],
        json!({"Name": "Patch", "Version": "1"})
    );

    let found = h
        .call(
            "SearchProductsAsAdmin",
            json!({"Filters": {"FullTextSearch": ["wEb"]}}),
        )
        .await;
    let names: Vec<&str> = found.body["ProductViewDetails"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["ProductViewSummary"]["Name"].as_str())
        .collect();
    assert_eq!(names, ["Web Cache", "Web Server"]);
    h.call("SearchProductsAsAdmin", json!({"PortfolioId": "port-1"}))
        .await
        .err(400, "ResourceNotFoundException");
}

#[tokio::test]
async fn seeds_load_from_the_fixture_and_bad_seeds_fail_clearly() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog/basic.yaml");
    let seed = Seed::from_file(&path).expect("fixture seed");
    assert_eq!(
        (
            seed.products.len(),
            seed.actions.len(),
            seed.associations.len()
        ),
        (3, 3, 2)
    );
    let error = |yaml: &str| format!("{:#}", Seed::from_yaml_str(yaml).expect_err(yaml));
    assert!(error("products: []\nextra: 1").contains("unknown field"));
    assert!(
        error("products: [{id: prod-1, name: P, artifacts: [{id: pa-1, name: v1, colour: red}]}]")
            .contains("unknown field")
    );
    let dangling = "products: [{id: prod-1, name: P, artifacts: [{id: pa-1, name: v1}]}]\nactions: [{id: act-1, name: A}]\nassociations: [{product: prod-1, artifact: pa-1, action: act-2}]";
    assert!(error(dangling).contains("unknown action \"act-2\""));
    let over = CatalogConfig {
        max_actions_per_artifact: 1,
        ..CatalogConfig::new(
            Seed::from_yaml_str(&dangling.replace("act-2", "act-1")).expect("seed"),
        )
    };
    assert!(
        LocalCatalog::start(
            CatalogConfig {
                max_actions_per_artifact: 0,
                ..over
            },
            SocketAddr::from(([127, 0, 0, 1], 0))
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn stats_and_state_are_served_as_json() {
    let h = Harness::seeded(SEED).await;
    h.call("ListServiceActions", json!({})).await.ok();
    let stats = h.get("/_stats").await;
    assert_eq!(
        (
            stats["total_calls"].as_u64(),
            stats["calls"]["ListServiceActions"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        h.get("/_state").await,
        json!([{"product": "prod-web", "artifact": "pa-web-v1", "action": "act-restart"}])
    );
    h.catalog.shutdown().await;
}
