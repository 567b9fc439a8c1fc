//! Model-driven validation: required members, lengths, ranges, list sizes, enums, unanchored
//! patterns, JSON types — each answered as AWS does, naming the field.

use super::*;

#[tokio::test]
async fn a_missing_required_member_is_invalid_parameters_naming_every_missing_field() {
    let h = Harness::seeded(SEED).await;
    let r = h.call(ASSOCIATE, json!({"ProductId": "prod-web"})).await;
    r.err(400, "InvalidParametersException");
    assert!(
        r.message().starts_with("2 validation errors detected"),
        "{}",
        r.message()
    );
    assert!(
        r.message().contains("'ProvisioningArtifactId'")
            && r.message().contains("'ServiceActionId'")
    );
    for op in [
        "ListServiceActionsForProvisioningArtifact",
        "ListProvisioningArtifactsForServiceAction",
        "DescribeServiceAction",
        "ListProvisioningArtifacts",
        BATCH_ASSOCIATE,
        DISASSOCIATE,
    ] {
        h.call(op, json!({}))
            .await
            .err(400, "InvalidParametersException");
    }
}

#[tokio::test]
async fn an_id_longer_than_100_characters_is_invalid_but_100_is_merely_not_found() {
    let h = Harness::seeded(SEED).await;
    let r = h
        .call("DescribeServiceAction", json!({"Id": "a".repeat(101)}))
        .await;
    r.err(400, "InvalidParametersException");
    assert!(
        r.message().contains("at 'Id'") && r.message().contains("less than or equal to 100"),
        "{}",
        r.message()
    );
    h.call("DescribeServiceAction", json!({"Id": "a".repeat(100)}))
        .await
        .err(400, "ResourceNotFoundException");
}

#[tokio::test]
async fn page_size_must_be_0_to_20_and_0_means_the_default_of_20() {
    let mut seed = big_seed(0, 45);
    seed.add_product("prod-x", "X", [("pa-x", "v1")]);
    let h = Harness::start(CatalogConfig::new(seed)).await;
    let r = h.call("ListServiceActions", json!({"PageSize": 21})).await;
    r.err(400, "InvalidParametersException");
    assert!(r.message().contains("'PageSize'") && r.message().contains("less than or equal to 20"));
    h.call("ListServiceActions", json!({"PageSize": -1}))
        .await
        .err(400, "InvalidParametersException");
    for body in [json!({}), json!({"PageSize": 0}), json!({"PageSize": 20})] {
        let page = h.call("ListServiceActions", body).await;
        assert_eq!(ids(&page.body, "ServiceActionSummaries").len(), 20);
    }
}

#[tokio::test]
async fn a_batch_must_hold_1_to_50_associations() {
    let h = Harness::seeded(SEED).await;
    let item = triple_body("prod-web", "pa-web-v1", "act-restart");
    for n in [0usize, 51] {
        let r = h
            .call(
                BATCH_ASSOCIATE,
                json!({"ServiceActionAssociations": vec![item.clone(); n]}),
            )
            .await;
        r.err(400, "InvalidParametersException");
        assert!(
            r.message().contains("'ServiceActionAssociations'"),
            "{}",
            r.message()
        );
    }
    let fifty = h
        .call(
            BATCH_DISASSOCIATE,
            json!({"ServiceActionAssociations": vec![item; 50]}),
        )
        .await;
    assert_eq!(
        fifty.ok().body["FailedServiceActionAssociations"]
            .as_array()
            .map(Vec::len),
        Some(49)
    );
}

#[tokio::test]
async fn enums_and_lengths_are_checked_but_accept_language_is_only_a_length_in_the_model() {
    let h = Harness::seeded(SEED).await;
    let r = h
        .call("SearchProductsAsAdmin", json!({"SortOrder": "SIDEWAYS"}))
        .await;
    r.err(400, "InvalidParametersException");
    assert!(
        r.message()
            .contains("enum value set: [ASCENDING, DESCENDING]"),
        "{}",
        r.message()
    );
    let r = h
        .call(
            "SearchProductsAsAdmin",
            json!({"Filters": {"Colour": ["red"]}}),
        )
        .await;
    r.err(400, "InvalidParametersException");
    h.call(
        "ListServiceActions",
        json!({"AcceptLanguage": "x".repeat(101)}),
    )
    .await
    .err(400, "InvalidParametersException");
    // The model gives AcceptLanguage no enum (docs list en, jp, zh), so AWS's validator lets
    // other values through.
    h.call("ListServiceActions", json!({"AcceptLanguage": "fr"}))
        .await
        .ok();
}

#[tokio::test]
async fn unanchored_patterns_let_odd_ids_through_to_not_found() {
    let h = Harness::seeded(SEED).await;
    h.call(
        ASSOCIATE,
        triple_body("prod-web/..", "pa-web-v1", "act-patch"),
    )
    .await
    .err(400, "ResourceNotFoundException");
    h.call("DescribeServiceAction", json!({"Id": "act patch!"}))
        .await
        .err(400, "ResourceNotFoundException");
    // The token pattern needs at least one letter or digit somewhere.
    let bad_token = with_token(triple_body("prod-web", "pa-web-v1", "act-patch"), "--");
    h.call(ASSOCIATE, bad_token)
        .await
        .err(400, "InvalidParametersException");
}

#[tokio::test]
async fn wrong_json_types_and_bodies_that_are_not_json_objects_are_serialization_errors() {
    let h = Harness::seeded(SEED).await;
    h.call("ListServiceActions", json!({"PageSize": "5"}))
        .await
        .err(400, "SerializationException");
    h.call(
        ASSOCIATE,
        json!({"ProductId": 7, "ProvisioningArtifactId": "pa", "ServiceActionId": "a"}),
    )
    .await
    .err(400, "SerializationException");
    for body in ["not json", "[1,2]", "{\"PageSize\": 1"] {
        h.raw(Some(AUTH), Some("ListServiceActions"), body)
            .await
            .err(400, "SerializationException");
    }
    // An empty body is an empty request; unknown members are ignored.
    h.raw(Some(AUTH), Some("ListServiceActions"), "").await.ok();
    h.call(
        "ListServiceActions",
        json!({"Colour": "red", "PageSize": 1}),
    )
    .await
    .ok();
}
