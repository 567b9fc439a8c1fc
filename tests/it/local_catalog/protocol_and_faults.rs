//! The wire around the operations — request ids, signatures, credentials, targets — and the
//! fault knobs: throttling, seeded injected errors, lost replies, per-item throttling, latency.

use super::*;

#[tokio::test]
async fn request_ids_are_unique_across_answers() {
    let h = Harness::seeded(SEED).await;
    let mut seen = HashSet::new();
    for _ in 0..20 {
        let r = h.call("ListServiceActions", json!({})).await;
        assert!(seen.insert(r.request_id.clone().expect("id")));
    }
}

#[tokio::test]
async fn unsigned_and_malformed_signatures_are_refused_before_anything_else() {
    let h = Harness::seeded(SEED).await;
    let r = h.raw(None, Some("ListServiceActions"), "{}").await;
    r.err(400, "MissingAuthenticationTokenException");
    assert_eq!(r.message(), "Missing Authentication Token");
    h.raw(None, Some("NoSuchOperation"), "not json")
        .await
        .err(400, "MissingAuthenticationTokenException");
    for bad in [
        "Bearer xyz",
        "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/servicecatalog/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=abc",
    ] {
        h.raw(Some(bad), Some("ListServiceActions"), "{}")
            .await
            .err(400, "IncompleteSignatureException");
    }
    let s3 = AUTH.replace("/servicecatalog/", "/s3/");
    h.raw(Some(&s3), Some("ListServiceActions"), "{}")
        .await
        .err(403, "InvalidSignatureException");
}

#[tokio::test]
async fn expired_and_unrecognized_access_keys_are_refused() {
    let config = CatalogConfig {
        expired_access_keys: vec!["AKIDEXAMPLE".into()],
        unrecognized_access_keys: vec!["AKIDOTHER".into()],
        ..CatalogConfig::new(Seed::from_yaml_str(SEED).expect("seed"))
    };
    let h = Harness::start(config).await;
    h.call("ListServiceActions", json!({}))
        .await
        .err(400, "ExpiredTokenException");
    h.raw(
        Some(&AUTH.replace("AKIDEXAMPLE", "AKIDOTHER")),
        Some("ListServiceActions"),
        "{}",
    )
    .await
    .err(400, "UnrecognizedClientException");
    h.raw(
        Some(&AUTH.replace("AKIDEXAMPLE", "AKIDFINE")),
        Some("ListServiceActions"),
        "{}",
    )
    .await
    .ok();
    assert_eq!(h.catalog.stats().calls["ListServiceActions"], 3);
}

#[tokio::test]
async fn an_unknown_or_missing_target_is_an_unknown_operation() {
    let h = Harness::seeded(SEED).await;
    h.raw(Some(AUTH), Some("CreateProduct"), "{}")
        .await
        .err(400, "UnknownOperationException");
    h.raw(Some(AUTH), None, "{}")
        .await
        .err(400, "UnknownOperationException");
    assert_eq!(h.catalog.stats().total_calls, 0);
}

#[tokio::test]
async fn the_token_bucket_answers_400_throttling_once_the_burst_is_spent() {
    let faults = Faults {
        rate: Some(0.001),
        burst: 3,
        ..Faults::default()
    };
    let h = Harness::start(CatalogConfig {
        faults,
        ..CatalogConfig::new(Seed::from_yaml_str(SEED).expect("seed"))
    })
    .await;
    for _ in 0..3 {
        h.call("ListServiceActions", json!({})).await.ok();
    }
    let r = h
        .call(ASSOCIATE, triple_body("prod-web", "pa-web-v1", "act-patch"))
        .await;
    r.err(400, "ThrottlingException");
    assert_eq!(r.message(), "Rate exceeded");
    assert_eq!(
        h.catalog.associations().len(),
        1,
        "a throttled write does nothing"
    );
    // The side endpoints are never throttled.
    for _ in 0..5 {
        assert!(h.get("/_stats").await.is_object());
    }
    let stats = h.catalog.stats();
    assert_eq!(
        (stats.throttled, stats.total_calls, stats.calls[ASSOCIATE]),
        (1, 4, 1)
    );
    h.catalog.set_faults(Faults::default());
    h.call("ListServiceActions", json!({})).await.ok();
}

#[tokio::test]
async fn the_same_rng_seed_gives_the_same_fault_sequence() {
    let h = Harness::seeded(SEED).await;
    let run = |seed: u64| {
        let h = &h;
        async move {
            h.catalog.set_faults(Faults {
                error_rate: 0.5,
                rng_seed: seed,
                ..Faults::default()
            });
            let mut statuses = Vec::new();
            for _ in 0..40 {
                statuses.push(h.call("ListServiceActions", json!({})).await.status);
            }
            statuses
        }
    };
    let first = run(11).await;
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
    assert_eq!(first, run(11).await);
    assert_ne!(first, run(12).await);
    let failed = first.iter().filter(|s| **s == 500).count() as u64;
    assert!(h.catalog.stats().injected_errors >= 2 * failed);
}

#[tokio::test]
async fn a_lost_reply_performs_the_write_and_its_token_replays_the_success() {
    let h = Harness::seeded(SEED).await;
    h.catalog.set_faults(Faults {
        lost_reply_rate: 1.0,
        ..Faults::default()
    });
    let t = Triple::new("prod-web", "pa-web-v1", "act-patch");
    let body = with_token(triple_body(&t.product, &t.artifact, &t.action), "retry-me");
    let r = h.call(ASSOCIATE, body.clone()).await;
    r.err(500, "InternalFailure");
    assert!(
        h.catalog.associations().contains(&t),
        "performed despite the 500"
    );
    let batch =
        json!({"ServiceActionAssociations": [triple_body("prod-db", "pa-db-v1", "act-backup")]});
    h.call(BATCH_ASSOCIATE, batch)
        .await
        .err(500, "InternalFailure");
    assert_eq!(h.catalog.associations().len(), 3);
    h.call("ListServiceActions", json!({})).await.ok();
    assert_eq!(h.catalog.stats().lost_replies, 2);
    h.catalog.set_faults(Faults::default());
    h.call(ASSOCIATE, body.clone()).await.ok();
    h.call(ASSOCIATE, with_token(body, "fresh"))
        .await
        .err(400, "DuplicateResourceException");
}

#[tokio::test]
async fn batch_items_can_be_throttled_inside_an_http_200() {
    let h = Harness::seeded(SEED).await;
    h.catalog.set_faults(Faults {
        batch_item_throttle_rate: 1.0,
        ..Faults::default()
    });
    let items = json!([
        triple_body("prod-web", "pa-web-v1", "act-patch"),
        triple_body("prod-db", "pa-db-v1", "act-patch")
    ]);
    let r = h
        .call(BATCH_ASSOCIATE, json!({"ServiceActionAssociations": items}))
        .await;
    let codes: Vec<&str> = r.ok().body["FailedServiceActionAssociations"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|f| f["ErrorCode"].as_str())
        .collect();
    assert_eq!(codes, ["THROTTLING", "THROTTLING"]);
    assert_eq!(
        h.catalog.associations().len(),
        1,
        "throttled items are not applied"
    );
}

#[tokio::test]
async fn latency_delays_answers_and_concurrent_requests_are_served_together() {
    let h = Harness::seeded(SEED).await;
    h.catalog.set_faults(Faults {
        latency: Duration::from_millis(100),
        jitter: Duration::from_millis(20),
        ..Faults::default()
    });
    let started = Instant::now();
    let calls = (0..8).map(|_| h.call("ListServiceActions", json!({})));
    let replies = futures::future::join_all(calls).await;
    let elapsed = started.elapsed();
    assert!(replies.iter().all(|r| r.status == 200));
    assert!(
        elapsed >= Duration::from_millis(100) && elapsed < Duration::from_millis(700),
        "{elapsed:?}"
    );
    assert!(h.catalog.stats().max_in_flight > 1);
    h.catalog.reset_stats();
    assert_eq!(h.catalog.stats().total_calls, 0);
}
