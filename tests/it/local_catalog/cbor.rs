//! Smithy RPC v2 CBOR, the second wire protocol: routing and headers as the specification
//! requires, bodies and timestamps, errors as CBOR maps with absolute shape ids, malformed bodies
//! answered (never a panic), and the proof that matters most — the same seeded call sequence gets
//! the same answers over CBOR as over JSON, faults included.

use super::*;
use ciborium::Value as C;

const PATH: &str = "/service/AWS242ServiceCatalogService/operation";

fn path(op: &str) -> String {
    format!("{PATH}/{op}")
}

fn cbor(item: &C) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(item, &mut out).expect("encode");
    out
}

fn decoded(reply: &Reply) -> C {
    ciborium::de::from_reader(reply.raw.as_slice()).expect("CBOR answer")
}

/// The value under `key` of a CBOR map.
fn get<'a>(item: &'a C, key: &str) -> &'a C {
    item.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_text() == Some(key)))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {item:?}"))
}

#[tokio::test]
async fn a_cbor_request_gets_a_cbor_answer_with_the_protocol_header() {
    let h = Harness::seeded(SEED).await;
    let r = h
        .call_over(Wire::Cbor, "ListServiceActions", json!({"PageSize": 2}))
        .await;
    r.ok();
    assert_eq!(
        ids(&r.body, "ServiceActionSummaries"),
        ["act-backup", "act-patch"]
    );
    assert!(r.body["NextPageToken"].is_string());
    assert!(r.request_id.is_some());
    assert_eq!(r.error_type, None);
    // An empty body is an empty input, and Associate answers an empty map (0xa0).
    let empty = h
        .raw_cbor(&path("ListServiceActions"), &[], Vec::new())
        .await;
    assert_eq!(ids(&empty.ok().body, "ServiceActionSummaries").len(), 3);
    let associated = h
        .call_over(
            Wire::Cbor,
            ASSOCIATE,
            triple_body("prod-web", "pa-web-v1", "act-patch"),
        )
        .await;
    assert_eq!(associated.ok().raw, [0xa0]);
    assert_eq!(h.catalog.associations().len(), 2);
    assert_eq!(h.catalog.stats().calls[ASSOCIATE], 1);
}

#[tokio::test]
async fn timestamps_are_tag_1_epoch_seconds_and_absent_members_are_omitted() {
    let h = Harness::seeded(SEED).await;
    let json_reply = h
        .call("DescribeProductAsAdmin", json!({"Id": "prod-db"}))
        .await;
    let r = h
        .call_over(
            Wire::Cbor,
            "DescribeProductAsAdmin",
            json!({"Id": "prod-db"}),
        )
        .await;
    let item = decoded(&r);
    let created = get(get(&item, "ProductViewDetail"), "CreatedTime");
    let expected = json_reply.body["ProductViewDetail"]["CreatedTime"]
        .as_i64()
        .expect("epoch seconds over JSON");
    assert_eq!(created, &C::Tag(1, Box::new(C::Integer(expected.into()))));
    let summary = get(get(&item, "ProductViewDetail"), "ProductViewSummary");
    // prod-db has no owner: the member is left out, not sent as null.
    assert!(
        summary.as_map().is_some_and(|m| m
            .iter()
            .all(|(k, v)| k.as_text() != Some("Owner") && !v.is_null())),
        "{summary:?}"
    );
    let artifacts = h
        .call_over(
            Wire::Cbor,
            "ListProvisioningArtifacts",
            json!({"ProductId": "prod-web"}),
        )
        .await;
    let listed = decoded(&artifacts);
    let first = &get(&listed, "ProvisioningArtifactDetails")
        .as_array()
        .expect("list")[0];
    assert!(matches!(get(first, "CreatedTime"), C::Tag(1, _)));
    assert_eq!(get(first, "Active"), &C::Bool(true));
}

#[tokio::test]
async fn errors_are_cbor_maps_with_an_absolute_shape_id_and_a_message() {
    let h = Harness::seeded(SEED).await;
    let r = h
        .call_over(
            Wire::Cbor,
            "DescribeServiceAction",
            json!({"Id": "act-nope"}),
        )
        .await;
    r.err(400, "ResourceNotFoundException");
    let item = decoded(&r);
    assert_eq!(
        get(&item, "__type").as_text(),
        Some("com.amazonaws.servicecatalog#ResourceNotFoundException")
    );
    assert!(
        get(&item, "message")
            .as_text()
            .is_some_and(|m| m.contains("act-nope"))
    );

    let r = h
        .call_over(
            Wire::Cbor,
            "DescribeServiceAction",
            json!({"Id": "act nope"}),
        )
        .await;
    r.err(400, "ValidationException");
    assert_eq!(
        get(&decoded(&r), "__type").as_text(),
        Some("com.amazon.coral.validate#ValidationException")
    );
    assert!(
        r.message().contains("Value 'act nope' at 'id'"),
        "{}",
        r.message()
    );
    let r = h
        .raw_cbor(
            &path("ListServiceActions"),
            &[("authorization", "")],
            cbor(&C::Map(vec![])),
        )
        .await;
    r.err(400, "MissingAuthenticationTokenException");
    assert_eq!(r.smithy_protocol.as_deref(), Some("rpc-v2-cbor"));
}

/// A request path, the headers changed from a good request, and the status and code refusing it.
type Refusal = (
    String,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

#[tokio::test]
async fn routing_and_headers_follow_the_specification() {
    let h = Harness::seeded(SEED).await;
    let body = || cbor(&C::Map(vec![]));
    // A prefix before the last four segments and the absolute service id both route.
    for p in [
        format!("/v1{}", path("ListServiceActions")),
        "/service/com.amazonaws.servicecatalog.AWS242ServiceCatalogService/operation/ListServiceActions".to_string(),
    ] {
        h.raw_cbor(&p, &[], body()).await.ok();
    }
    let refusals: [Refusal; 7] = [
        (path("CreateProduct"), &[], 404, "UnknownOperationException"),
        (
            "/service/AmazonS3/operation/ListServiceActions".to_string(),
            &[],
            404,
            "UnknownOperationException",
        ),
        (
            path("ListServiceActions"),
            &[("smithy-protocol", "")],
            404,
            "UnknownOperationException",
        ),
        (
            path("ListServiceActions"),
            &[("smithy-protocol", "rpc-v2-json")],
            404,
            "UnknownOperationException",
        ),
        (
            path("ListServiceActions"),
            &[(
                "x-amz-target",
                "AWS242ServiceCatalogService.ListServiceActions",
            )],
            404,
            "UnknownOperationException",
        ),
        (
            path("ListServiceActions"),
            &[("content-type", "application/json")],
            415,
            "UnsupportedMediaTypeException",
        ),
        (
            path("ListServiceActions"),
            &[("accept", "text/html")],
            406,
            "NotAcceptableException",
        ),
    ];
    for (p, headers, status, code) in refusals {
        let r = h.raw_cbor(&p, headers, body()).await;
        r.err(status, code);
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/cbor"),
            "{p} {headers:?}"
        );
    }
    // Addressed to a real operation, the last four refusals still count as its calls.
    assert_eq!(h.catalog.stats().calls["ListServiceActions"], 2 + 5);
    let get = hyper::Request::get(format!(
        "{}{}",
        h.catalog.endpoint(),
        path("ListServiceActions")
    ))
    .header("authorization", AUTH)
    .header("x-amz-date", "20260101T000000Z")
    .header("smithy-protocol", "rpc-v2-cbor")
    .body(Full::new(Bytes::new()))
    .expect("request");
    h.send(get).await.err(405, "MethodNotAllowedException");
}

#[tokio::test]
async fn malformed_bodies_are_serialization_errors_and_never_take_the_server_down() {
    let h = Harness::seeded(SEED).await;
    let deep = {
        let mut v = vec![0x81u8; 200];
        v.push(0xa0);
        v
    };
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("not CBOR at all", b"{\"PageSize\": 1}".to_vec()),
        ("a break with nothing open", vec![0xff]),
        ("truncated map", vec![0xa1, 0x68, b'P', b'a', b'g', b'e']),
        ("array at the top", cbor(&C::Array(vec![]))),
        (
            "two items",
            [cbor(&C::Map(vec![])), cbor(&C::Map(vec![]))].concat(),
        ),
        (
            "integer key",
            cbor(&C::Map(vec![(C::Integer(1.into()), C::Null)])),
        ),
        (
            "text for an integer",
            cbor(&C::Map(vec![(
                C::Text("PageSize".into()),
                C::Text("5".into()),
            )])),
        ),
        (
            "float for an integer",
            cbor(&C::Map(vec![(C::Text("PageSize".into()), C::Float(5.0))])),
        ),
        (
            "bytes for a string",
            cbor(&C::Map(vec![(
                C::Text("PageToken".into()),
                C::Bytes(vec![1]),
            )])),
        ),
        ("nesting 200 deep", deep),
        (
            "a byte string claiming 2^64-1 bytes",
            vec![0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "an array claiming 2^64-1 items",
            vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        ("invalid UTF-8 text", vec![0xa1, 0x62, 0xc3, 0x28, 0x01]),
        (
            "integer beyond i64",
            cbor(&C::Map(vec![(
                C::Text("PageSize".into()),
                C::Integer(u64::MAX.into()),
            )])),
        ),
    ];
    for (what, body) in bad {
        let r = h.raw_cbor(&path("ListServiceActions"), &[], body).await;
        assert_eq!(
            (r.status, r.code()),
            (400, Some("SerializationException")),
            "{what}: {r:?}"
        );
    }
    // What the specification allows is accepted: indefinite lengths, `undefined` as absent,
    // unknown members of any CBOR type.
    let indefinite = [&[0xbf, 0x68][..], b"PageSize", &[0x01, 0xff]].concat();
    let r = h
        .raw_cbor(&path("ListServiceActions"), &[], indefinite)
        .await;
    assert_eq!(ids(&r.ok().body, "ServiceActionSummaries").len(), 1);
    let undefined = [&[0xa1, 0x68][..], b"PageSize", &[0xf7]].concat();
    h.raw_cbor(&path("ListServiceActions"), &[], undefined)
        .await
        .ok();
    let unknown = cbor(&C::Map(vec![(
        C::Text("Colour".into()),
        C::Bytes(vec![1, 2]),
    )]));
    h.raw_cbor(&path("ListServiceActions"), &[], unknown)
        .await
        .ok();
    h.call("ListServiceActions", json!({})).await.ok();
}

#[tokio::test]
async fn a_token_used_over_json_replays_its_answer_over_cbor() {
    let h = Harness::seeded(SEED).await;
    let body = with_token(triple_body("prod-web", "pa-web-v1", "act-restart"), "tok-1");
    let first = h.call(ASSOCIATE, body.clone()).await;
    first.err(400, "DuplicateResourceException");
    h.call(
        DISASSOCIATE,
        triple_body("prod-web", "pa-web-v1", "act-restart"),
    )
    .await
    .ok();
    let replay = h.call_over(Wire::Cbor, ASSOCIATE, body).await;
    replay.err(400, "DuplicateResourceException");
    assert_eq!(replay.message(), first.message());
    assert!(
        h.catalog.associations().is_empty(),
        "a replay applies nothing"
    );
}

/// One step of the shared sequence; `PageToken: "<next>"` takes the previous answer's token.
fn sequence() -> Vec<(&'static str, Value)> {
    let next = json!("<next>");
    vec![
        ("ListServiceActions", json!({"PageSize": 2})),
        (
            "ListServiceActions",
            json!({"PageSize": 2, "PageToken": next}),
        ),
        ("ListServiceActions", json!({"PageSize": 21})),
        ("ListServiceActions", json!({"PageToken": "forged"})),
        ("DescribeServiceAction", json!({"Id": "act-restart"})),
        ("DescribeServiceAction", json!({"Id": "act nope"})),
        (
            "SearchProductsAsAdmin",
            json!({"Filters": {"FullTextSearch": ["web"]}, "PageSize": 1}),
        ),
        (
            "SearchProductsAsAdmin",
            json!({"Filters": {"FullTextSearch": ["web"]}, "PageSize": 1, "PageToken": next}),
        ),
        ("SearchProductsAsAdmin", json!({"SortOrder": "SIDEWAYS"})),
        ("DescribeProductAsAdmin", json!({"Name": "Web Server"})),
        ("DescribeProductAsAdmin", json!({})),
        (
            "ListProvisioningArtifacts",
            json!({"ProductId": "prod-web"}),
        ),
        (
            "DescribeProvisioningArtifact",
            json!({"ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v2", "Verbose": true}),
        ),
        (
            ASSOCIATE,
            with_token(triple_body("prod-web", "pa-web-v1", "act-patch"), "t-1"),
        ),
        (
            ASSOCIATE,
            with_token(triple_body("prod-web", "pa-web-v1", "act-patch"), "t-1"),
        ),
        (ASSOCIATE, triple_body("prod-web", "pa-web-v1", "act-patch")),
        (ASSOCIATE, triple_body("prod bad", "pa-web-v1", "act-patch")),
        (
            "ListServiceActionsForProvisioningArtifact",
            json!({"ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1", "PageSize": 1}),
        ),
        (
            "ListServiceActionsForProvisioningArtifact",
            json!({"ProductId": "prod-web", "ProvisioningArtifactId": "pa-web-v1", "PageSize": 1, "PageToken": next}),
        ),
        (
            BATCH_ASSOCIATE,
            json!({"ServiceActionAssociations": [
                triple_body("prod-db", "pa-db-v1", "act-backup"),
                triple_body("prod-db", "pa-db-v1", "act-nope"),
                triple_body("prod-db", "pa-web-v1", "act-backup"),
            ]}),
        ),
        (
            BATCH_ASSOCIATE,
            json!({"ServiceActionAssociations": [
                triple_body("prod-db", "pa-db-v1", "act-patch"),
                triple_body("prod-db", "pa-db-v1", "-bad-"),
            ]}),
        ),
        (
            "ListProvisioningArtifactsForServiceAction",
            json!({"ServiceActionId": "act-backup"}),
        ),
        (
            BATCH_DISASSOCIATE,
            json!({"ServiceActionAssociations": [triple_body("prod-db", "pa-db-v1", "act-backup")]}),
        ),
        (
            DISASSOCIATE,
            triple_body("prod-web", "pa-web-v1", "act-patch"),
        ),
        (
            DISASSOCIATE,
            triple_body("prod-web", "pa-web-v1", "act-patch"),
        ),
    ]
}

/// Runs the sequence on a fresh catalog with seeded faults; returns every answer (status, code,
/// message, body) and the final state.
async fn run_sequence(wire: Wire) -> (Vec<(u16, Option<String>, String, Value)>, Vec<Triple>) {
    let h = Harness::start(CatalogConfig {
        faults: Faults {
            error_rate: 0.15,
            lost_reply_rate: 0.15,
            rng_seed: 7,
            ..Faults::default()
        },
        ..CatalogConfig::new(Seed::from_yaml_str(SEED).expect("seed"))
    })
    .await;
    let mut answers = Vec::new();
    let mut next = Value::Null;
    for (op, mut body) in sequence() {
        if body.get("PageToken") == Some(&json!("<next>")) {
            body["PageToken"] = next.clone();
        }
        let r = h.call_over(wire, op, body).await;
        if let Some(t) = r.body.get("NextPageToken") {
            next = t.clone();
        }
        let mut shown = r.body.clone();
        if let Some(o) = shown.as_object_mut() {
            o.remove("__type");
        }
        answers.push((
            r.status,
            r.code().map(str::to_string),
            r.message().to_string(),
            shown,
        ));
    }
    (answers, h.catalog.associations())
}

#[tokio::test]
async fn the_same_seeded_call_sequence_gets_the_same_answers_over_each_protocol() {
    let (over_json, state_json) = run_sequence(Wire::Json).await;
    let (over_cbor, state_cbor) = run_sequence(Wire::Cbor).await;
    for (i, (j, c)) in over_json.iter().zip(&over_cbor).enumerate() {
        assert_eq!(j, c, "step {i}: {:?}", sequence()[i].0);
    }
    assert_eq!(over_json.len(), sequence().len());
    assert_eq!(state_json, state_cbor);
    // The sequence is worth comparing: it met successes, the service's errors, validation
    // errors and injected faults alike.
    let codes: HashSet<Option<&str>> = over_json.iter().map(|a| a.1.as_deref()).collect();
    for code in [
        None,
        Some("ValidationException"),
        Some("InvalidParametersException"),
        Some("ResourceNotFoundException"),
        Some("InternalFailure"),
    ] {
        assert!(codes.contains(&code), "{code:?} not met: {codes:?}");
    }
}
