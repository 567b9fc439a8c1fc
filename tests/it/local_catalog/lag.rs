//! Listings that lag writes, as AWS's do: an API write is shown by the `List*` calls (both
//! directions) only after `listing_lag`, while writes see the true state at once; the same over
//! both protocols, for batch calls, per target; out-of-band changes are shown at once.

use super::accounts::{FIXTURE, HUB, sc};
use super::*;

const LIST_FOR_ARTIFACT: &str = "ListServiceActionsForProvisioningArtifact";
const LIST_FOR_ACTION: &str = "ListProvisioningArtifactsForServiceAction";
const LAG: Duration = Duration::from_millis(600);

fn lagging() -> Faults {
    Faults {
        listing_lag: LAG,
        ..Faults::default()
    }
}

async fn lagging_harness() -> Harness {
    let mut config = CatalogConfig::new(Seed::from_yaml_str(SEED).expect("seed"));
    config.faults = lagging();
    Harness::start(config).await
}

/// Whether each listing direction shows prod-web/pa-web-v1/act-patch.
async fn listed(h: &Harness, wire: Wire) -> (bool, bool) {
    let by_artifact = h
        .call_over(
            wire,
            LIST_FOR_ARTIFACT,
            json!({"ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1"}),
        )
        .await;
    let by_action = h
        .call_over(
            wire,
            LIST_FOR_ACTION,
            json!({"ServiceActionId": "act-patch"}),
        )
        .await;
    let shown_on_artifact =
        ids(&by_artifact.ok().body, "ServiceActionSummaries").contains(&"act-patch".to_string());
    let shown_for_action = by_action.ok().body["ProvisioningArtifactViews"]
        .as_array()
        .expect("views")
        .iter()
        .any(|v| v["ProvisioningArtifact"]["Id"] == "pa-web-v1");
    (shown_on_artifact, shown_for_action)
}

#[tokio::test]
async fn a_write_is_listed_only_after_the_lag_while_writes_see_it_at_once() {
    for wire in [Wire::Json, Wire::Cbor] {
        let h = lagging_harness().await;
        let patch = triple_body("prod-web", "pa-web-v1", "act-patch");
        let made = Instant::now();
        h.call_over(wire, ASSOCIATE, with_token(patch.clone(), "t1"))
            .await
            .ok();
        assert_eq!(listed(&h, wire).await, (false, false), "{wire:?}");
        // A second writer sees it: the association exists.
        h.call_over(wire, ASSOCIATE, with_token(patch.clone(), "t2"))
            .await
            .err(400, "DuplicateResourceException");
        assert!(made.elapsed() < LAG, "the checks above ran within the lag");
        tokio::time::sleep(LAG).await;
        assert_eq!(listed(&h, wire).await, (true, true), "{wire:?}");

        let removed = Instant::now();
        h.call_over(wire, DISASSOCIATE, with_token(patch.clone(), "t3"))
            .await
            .ok();
        assert_eq!(
            listed(&h, wire).await,
            (true, true),
            "still listed: {wire:?}"
        );
        h.call_over(wire, DISASSOCIATE, with_token(patch.clone(), "t4"))
            .await
            .err(400, "ResourceNotFoundException");
        assert!(removed.elapsed() < LAG);
        tokio::time::sleep(LAG).await;
        assert_eq!(listed(&h, wire).await, (false, false), "{wire:?}");
        assert_eq!(h.catalog.associations().len(), 1, "the seeded one only");
    }
}

#[tokio::test]
async fn batch_writes_lag_too_and_a_triple_is_listed_in_the_order_it_was_written() {
    let h = lagging_harness().await;
    let items = json!({"ServiceActionAssociations": [
        {"ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1", "ServiceActionId": "act-patch"}
    ]});
    let reply = h.call(BATCH_ASSOCIATE, items.clone()).await;
    assert_eq!(
        reply.ok().body["FailedServiceActionAssociations"],
        json!([])
    );
    assert_eq!(listed(&h, Wire::Json).await, (false, false));
    // Removed again before the first write is listed: the listing never shows a state the
    // catalog did not pass through, and ends showing the last one.
    h.call(BATCH_DISASSOCIATE, items).await.ok();
    assert_eq!(listed(&h, Wire::Json).await, (false, false));
    tokio::time::sleep(LAG * 2).await;
    assert_eq!(listed(&h, Wire::Json).await, (false, false));
}

#[tokio::test]
async fn out_of_band_changes_are_listed_at_once_and_a_replayed_token_changes_nothing() {
    let h = lagging_harness().await;
    let patch = Triple::new("prod-web", "pa-web-v1", "act-patch");
    h.catalog.insert_association_out_of_band(&patch);
    assert_eq!(listed(&h, Wire::Json).await, (true, true));
    assert!(h.catalog.remove_association_out_of_band(&patch));
    assert_eq!(listed(&h, Wire::Json).await, (false, false));

    let body = with_token(triple_body("prod-web", "pa-web-v1", "act-patch"), "once");
    h.call(ASSOCIATE, body.clone()).await.ok();
    tokio::time::sleep(LAG).await;
    assert_eq!(listed(&h, Wire::Json).await, (true, true));
    assert!(h.catalog.remove_association_out_of_band(&patch));
    // The stale-token trap with the lag on: the replay answers success and makes nothing, now
    // or later.
    h.call(ASSOCIATE, body).await.ok();
    tokio::time::sleep(LAG).await;
    assert_eq!(listed(&h, Wire::Json).await, (false, false));
    assert!(!h.catalog.associations().contains(&patch));
}

#[tokio::test]
async fn each_target_lags_by_its_own_knob() {
    let h = Harness::start(CatalogConfig::from_seed_file(
        SeedFile::from_file(std::path::Path::new(FIXTURE)).expect("fixture"),
    ))
    .await;
    assert!(h.catalog.set_faults_in(HUB, "us-east-1", lagging()));
    let list = |product: &str, artifact: &str| json!({"ProductId": product, "ProvisioningArtifactId": artifact});
    for (region, product, artifact, lags) in [
        ("us-east-1", "prod-hub-web", "pa-hub-web-v1", true),
        ("eu-west-1", "prod-hubeu-web", "pa-hubeu-web-v1", false),
    ] {
        let action = if lags {
            "act-hub-restart"
        } else {
            "act-hubeu-restart"
        };
        let triple = json!({
            "ProductId": product, "ProvisioningArtifactId": artifact, "ServiceActionId": action
        });
        // The hub's us-east-1 artifact is seeded with the action: remove it; associate in the
        // other region.
        let op = if lags { DISASSOCIATE } else { ASSOCIATE };
        sc(&h, "AKIDHUB", None, region, op, triple).await.ok();
        let reply = sc(
            &h,
            "AKIDHUB",
            None,
            region,
            LIST_FOR_ARTIFACT,
            list(product, artifact),
        )
        .await;
        let shown = ids(&reply.ok().body, "ServiceActionSummaries").contains(&action.to_string());
        // Lagging: the removal is not listed yet (still shown); not lagging: the addition is.
        assert!(shown, "{region}: {reply:?}");
    }
}

#[tokio::test]
async fn a_seeds_faults_section_sets_its_own_catalogs_lag() {
    let seed = r#"
accounts:
  - id: "111111111111"
    access_keys: [AKIDHUB]
    regions:
      us-east-1:
        products: [{id: prod-1, name: One, artifacts: [{id: pa-1, name: v1}]}]
        actions: [{id: act-1, name: A}]
        faults: {listing_lag_ms: 600}
      eu-west-1:
        products: [{id: prod-1, name: One, artifacts: [{id: pa-1, name: v1}]}]
        actions: [{id: act-1, name: A}]
"#;
    let h = Harness::start(CatalogConfig::from_seed_file(
        SeedFile::from_yaml_str(seed).expect("a seed with faults"),
    ))
    .await;
    for (region, lags) in [("us-east-1", true), ("eu-west-1", false)] {
        let triple = json!({"ProductId": "prod-1", "ProvisioningArtifactId": "pa-1", "ServiceActionId": "act-1"});
        sc(&h, "AKIDHUB", None, region, ASSOCIATE, triple)
            .await
            .ok();
        let listed = sc(
            &h,
            "AKIDHUB",
            None,
            region,
            LIST_FOR_ARTIFACT,
            json!({"ProductId": "prod-1", "ProvisioningArtifactId": "pa-1"}),
        )
        .await;
        let shown = !ids(&listed.ok().body, "ServiceActionSummaries").is_empty();
        assert_eq!(shown, !lags, "{region}");
    }
    let bad = "products: []\nfaults: {throttle_rate: 2}\n";
    let error = Seed::from_yaml_str(bad).expect_err("not a probability");
    assert!(format!("{error:#}").contains("throttle_rate"), "{error:#}");
}
