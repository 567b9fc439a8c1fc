//! Paging with opaque tokens, and idempotency tokens: the first answer for a token is replayed
//! forever (the stale-token trap), requests without one are new each time.

use super::*;

#[tokio::test]
async fn every_list_pages_through_many_pages_with_opaque_tokens_each_item_once() {
    let mut seed = big_seed(47, 53);
    for p in 0..47 {
        seed.add_association(Triple::new(
            format!("prod-{p:03}"),
            format!("pa-{p:03}"),
            "act-000",
        ));
    }
    for a in 1..25 {
        seed.add_association(Triple::new("prod-000", "pa-000", format!("act-{a:03}")));
    }
    let h = Harness::start(CatalogConfig::new(seed)).await;
    let id = |v: &Value| v["Id"].as_str().unwrap_or("").to_string();
    let (actions, tokens) = all_pages(
        &h,
        "ListServiceActions",
        json!({"PageSize": 7}),
        "ServiceActionSummaries",
        id,
    )
    .await;
    assert_eq!(
        actions,
        (0..53).map(|a| format!("act-{a:03}")).collect::<Vec<_>>()
    );
    assert_eq!(tokens.len(), 7);
    assert!(
        tokens
            .iter()
            .all(|t| t.parse::<u64>().is_err() && !t.contains("act-")),
        "tokens are opaque: {tokens:?}"
    );
    let (on_artifact, _) = all_pages(
        &h,
        "ListServiceActionsForProvisioningArtifact",
        json!({"ProductId": "prod-000", "ProvisioningArtifactId": "pa-000", "PageSize": 4}),
        "ServiceActionSummaries",
        id,
    )
    .await;
    assert_eq!(on_artifact.len(), 25);
    let view = |v: &Value| {
        v["ProvisioningArtifact"]["Id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (artifacts, tokens) = all_pages(
        &h,
        "ListProvisioningArtifactsForServiceAction",
        json!({"ServiceActionId": "act-000"}),
        "ProvisioningArtifactViews",
        view,
    )
    .await;
    assert_eq!((artifacts.len(), tokens.len()), (47, 2));
    assert_eq!(artifacts.iter().collect::<HashSet<_>>().len(), 47);
    let product = |v: &Value| {
        v["ProductViewSummary"]["ProductId"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let (found, _) = all_pages(
        &h,
        "SearchProductsAsAdmin",
        json!({"PageSize": 5, "SortOrder": "DESCENDING"}),
        "ProductViewDetails",
        product,
    )
    .await;
    assert_eq!(
        found,
        (0..47)
            .rev()
            .map(|p| format!("prod-{p:03}"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_page_token_that_is_forged_tampered_or_from_another_list_is_invalid() {
    let h = Harness::start(CatalogConfig::new(big_seed(3, 5))).await;
    let first = h.call("ListServiceActions", json!({"PageSize": 2})).await;
    let token = first.body["NextPageToken"]
        .as_str()
        .expect("more pages")
        .to_string();
    h.call(
        "ListServiceActions",
        json!({"PageSize": 2, "PageToken": token}),
    )
    .await
    .ok();
    let mut tampered = token.clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    for bad in ["2", "abc", tampered.as_str()] {
        h.call("ListServiceActions", json!({"PageToken": bad}))
            .await
            .err(400, "InvalidParametersException");
    }
    h.call("SearchProductsAsAdmin", json!({"PageToken": token}))
        .await
        .err(400, "InvalidParametersException");
}

#[tokio::test]
async fn a_replayed_token_after_out_of_band_removal_answers_success_and_associates_nothing() {
    let h = Harness::seeded(SEED).await;
    let t = Triple::new("prod-web", "pa-web-v1", "act-patch");
    let body = with_token(triple_body(&t.product, &t.artifact, &t.action), "token-T");
    h.call(ASSOCIATE, body.clone()).await.ok();
    assert!(h.catalog.remove_association_out_of_band(&t));
    h.call(ASSOCIATE, body.clone()).await.ok();
    assert!(
        !h.catalog.associations().contains(&t),
        "the stale-token trap"
    );
    // A fresh token really associates; the same token on the other operation is independent.
    h.call(ASSOCIATE, with_token(body.clone(), "token-U"))
        .await
        .ok();
    assert!(h.catalog.associations().contains(&t));
    h.call(DISASSOCIATE, body).await.ok();
    assert!(!h.catalog.associations().contains(&t));
}

#[tokio::test]
async fn the_first_answer_for_a_token_is_replayed_even_when_it_was_an_error() {
    let h = Harness::seeded(SEED).await;
    let body = with_token(
        triple_body("prod-web", "pa-web-v1", "act-restart"),
        "dup-token",
    );
    h.call(ASSOCIATE, body.clone())
        .await
        .err(400, "DuplicateResourceException");
    h.catalog
        .remove_association_out_of_band(&Triple::new("prod-web", "pa-web-v1", "act-restart"));
    h.call(ASSOCIATE, body)
        .await
        .err(400, "DuplicateResourceException");
    assert!(h.catalog.associations().is_empty());
}

#[tokio::test]
async fn requests_without_a_token_are_new_every_time() {
    let h = Harness::seeded(SEED).await;
    let t = Triple::new("prod-web", "pa-web-v1", "act-patch");
    let body = triple_body(&t.product, &t.artifact, &t.action);
    h.call(ASSOCIATE, body.clone()).await.ok();
    h.call(ASSOCIATE, body.clone())
        .await
        .err(400, "DuplicateResourceException");
    h.catalog.remove_association_out_of_band(&t);
    h.call(ASSOCIATE, body).await.ok();
    assert!(h.catalog.associations().contains(&t));
    h.catalog
        .insert_association_out_of_band(&Triple::new("prod-db", "pa-db-v1", "act-patch"));
    assert_eq!(h.catalog.associations().len(), 3);
}
