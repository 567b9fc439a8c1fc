//! Many accounts and regions in one local catalog: one catalog per (account, region), chosen by
//! the access key (base keys by their account, issued ones by the role's) and the SigV4 scope's
//! region; isolation of contents, writes, idempotency tokens and page tokens between them; a
//! token bucket per target; the answer for a region the account has not enabled; per-target
//! stats and state. The STS side is in `sts.rs`, the two seed forms in `seed_forms.rs`; the
//! helpers here serve all three.

use super::*;

pub const FIXTURE: &str = "tests/fixtures/catalog/accounts.yaml";
pub const HUB: &str = "111111111111";
pub const SPOKE_A: &str = "222222222222";
const SPOKE_B: &str = "333333333333";

/// A SigV4 header for `key`, scoped to `region` and `service` (signatures are not verified).
pub fn auth(key: &str, region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/20261201/{region}/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=abc"
    )
}

pub fn encode(form: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

/// The text between the first `open` and the `close` after it ("" if absent).
pub fn between<'a>(xml: &'a str, open: &str, close: &str) -> &'a str {
    xml.split_once(open)
        .and_then(|(_, rest)| rest.split_once(close))
        .map_or("", |(inside, _)| inside)
}

/// A form-encoded POST, as STS clients send it.
pub async fn sts_raw(h: &Harness, auth: Option<&str>, token: Option<&str>, body: Vec<u8>) -> Reply {
    let mut req = hyper::Request::post(format!("{}/", h.catalog.endpoint()))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("x-amz-date", "20261201T000000Z");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(t) = token {
        req = req.header("x-amz-security-token", t);
    }
    h.send(req.body(Full::new(Bytes::from(body))).expect("request"))
        .await
}

/// A signed STS call; the status and the XML answer.
pub async fn sts(
    h: &Harness,
    key: &str,
    token: Option<&str>,
    form: &[(&str, String)],
) -> (u16, String) {
    let reply = sts_raw(
        h,
        Some(&auth(key, "us-east-1", "sts")),
        token,
        encode(form).into_bytes(),
    )
    .await;
    assert_eq!(reply.content_type.as_deref(), Some("text/xml"));
    assert!(reply.request_id.is_some());
    (
        reply.status,
        String::from_utf8_lossy(&reply.raw).into_owned(),
    )
}

/// A Service Catalog call over AWS JSON 1.1 with `key` (and its session token) in `region`.
pub async fn sc(
    h: &Harness,
    key: &str,
    token: Option<&str>,
    region: &str,
    op: &str,
    body: Value,
) -> Reply {
    let mut req = hyper::Request::post(format!("{}/", h.catalog.endpoint()))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", "20261201T000000Z")
        .header("authorization", auth(key, region, "servicecatalog"))
        .header("x-amz-target", format!("AWS242ServiceCatalogService.{op}"));
    if let Some(t) = token {
        req = req.header("x-amz-security-token", t);
    }
    h.send(
        req.body(Full::new(Bytes::from(body.to_string())))
            .expect("request"),
    )
    .await
}

async fn fixture() -> Harness {
    Harness::start(CatalogConfig::from_seed_file(
        SeedFile::from_file(std::path::Path::new(FIXTURE)).expect("fixture"),
    ))
    .await
}

/// Temporary keys for spoke-a's admin role, assumed from the hub.
async fn spoke_a_keys(h: &Harness) -> (String, String) {
    let (status, xml) = sts(
        h,
        "AKIDHUB",
        None,
        &[
            ("Action", "AssumeRole".into()),
            ("Version", "2011-06-15".into()),
            (
                "RoleArn",
                format!("arn:aws:iam::{SPOKE_A}:role/ServiceCatalogAdmin"),
            ),
            ("RoleSessionName", "test".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    (
        between(&xml, "<AccessKeyId>", "</AccessKeyId>").to_string(),
        between(&xml, "<SessionToken>", "</SessionToken>").to_string(),
    )
}

fn web_server_of(reply: &Reply) -> &str {
    reply.body["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn each_account_has_its_own_catalog_writes_and_tokens() {
    let h = fixture().await;
    let (key, token) = spoke_a_keys(&h).await;
    let by_name = json!({"Name": "Web Server"});
    let hub = sc(
        &h,
        "AKIDHUB",
        None,
        "us-east-1",
        "DescribeProductAsAdmin",
        by_name.clone(),
    )
    .await;
    let spoke = sc(
        &h,
        &key,
        Some(&token),
        "us-east-1",
        "DescribeProductAsAdmin",
        by_name,
    )
    .await;
    assert_eq!(
        (web_server_of(&hub), web_server_of(&spoke)),
        ("prod-hub-web", "prod-a-web")
    );
    assert_eq!(
        spoke.body["ProductViewDetail"]["ProductARN"],
        json!("arn:aws:catalog:us-east-1:222222222222:product/prod-a-web")
    );
    // The hub's ids do not exist in the spoke.
    sc(
        &h,
        &key,
        Some(&token),
        "us-east-1",
        "DescribeProductAsAdmin",
        json!({"Id": "prod-hub-web"}),
    )
    .await
    .err(400, "ResourceNotFoundException");

    // One idempotency token used in both accounts: each account remembers its own first answer.
    let spoke_triple = with_token(
        triple_body("prod-a-web", "pa-a-web-v1", "act-a-restart"),
        "tok-1",
    );
    let hub_triple = with_token(
        triple_body("prod-hub-web", "pa-hub-web-v1", "act-hub-restart"),
        "tok-1",
    );
    sc(&h, &key, Some(&token), "us-east-1", ASSOCIATE, spoke_triple)
        .await
        .ok();
    sc(&h, "AKIDHUB", None, "us-east-1", ASSOCIATE, hub_triple)
        .await
        .err(400, "DuplicateResourceException");
    assert_eq!(
        h.catalog.associations_in(SPOKE_A, "us-east-1"),
        Some(vec![Triple::new(
            "prod-a-web",
            "pa-a-web-v1",
            "act-a-restart"
        )])
    );
    assert_eq!(
        h.catalog.associations_in(HUB, "us-east-1"),
        Some(vec![Triple::new(
            "prod-hub-web",
            "pa-hub-web-v1",
            "act-hub-restart"
        )])
    );
    assert_eq!(
        h.catalog.associations(),
        h.catalog.associations_in(HUB, "us-east-1").unwrap()
    );

    // A page token of one account's list is refused in another's, even for the same list.
    sc(
        &h,
        &key,
        Some(&token),
        "us-east-1",
        ASSOCIATE,
        triple_body("prod-a-web", "pa-a-web-v2", "act-a-restart"),
    )
    .await
    .ok();
    let list = json!({"ServiceActionId": "act-a-restart", "PageSize": 1});
    let op = "ListProvisioningArtifactsForServiceAction";
    let first = sc(&h, &key, Some(&token), "us-east-1", op, list.clone()).await;
    let cursor = first.ok().body["NextPageToken"]
        .as_str()
        .expect("two pages")
        .to_string();
    let mut next = list.clone();
    next["PageToken"] = json!(cursor);
    sc(&h, "AKIDHUB", None, "us-east-1", op, next.clone())
        .await
        .err(400, "InvalidParametersException");
    let second = sc(&h, &key, Some(&token), "us-east-1", op, next).await;
    assert_eq!(
        second.ok().body["ProvisioningArtifactViews"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn each_region_has_its_own_catalog_and_counters() {
    let h = fixture().await;
    let by_name = json!({"Name": "Web Server"});
    let east = sc(
        &h,
        "AKIDHUB",
        None,
        "us-east-1",
        "DescribeProductAsAdmin",
        by_name.clone(),
    )
    .await;
    let west = sc(
        &h,
        "AKIDHUB",
        None,
        "eu-west-1",
        "DescribeProductAsAdmin",
        by_name,
    )
    .await;
    assert_eq!(
        (web_server_of(&east), web_server_of(&west)),
        ("prod-hub-web", "prod-hubeu-web")
    );
    assert_eq!(
        west.body["ProductViewDetail"]["ProductARN"],
        json!("arn:aws:catalog:eu-west-1:111111111111:product/prod-hubeu-web")
    );
    let t = Triple::new("prod-hubeu-web", "pa-hubeu-web-v1", "act-hubeu-restart");
    sc(
        &h,
        "AKIDHUB",
        None,
        "eu-west-1",
        ASSOCIATE,
        triple_body(&t.product, &t.artifact, &t.action),
    )
    .await
    .ok();
    assert_eq!(h.catalog.associations_in(HUB, "eu-west-1"), Some(vec![t]));
    assert!(
        !h.catalog
            .associations()
            .iter()
            .any(|a| a.product == "prod-hubeu-web")
    );
    let (east, west) = (
        h.catalog.stats_in(HUB, "us-east-1").expect("target"),
        h.catalog.stats_in(HUB, "eu-west-1").expect("target"),
    );
    assert_eq!((east.total_calls, west.total_calls), (1, 2));
    assert_eq!((east.write_calls(), west.write_calls()), (0, 1));
    assert_eq!(h.catalog.stats().total_calls, 3, "the totals are the sum");
}

#[tokio::test]
async fn a_region_the_account_has_not_enabled_refuses_the_credentials() {
    let h = fixture().await;
    let (key, token) = spoke_a_keys(&h).await;
    for (key, token, region) in [
        ("AKIDHUB", None, "ap-southeast-4"),
        ("AKIDSPOKEB", None, "us-east-1"),
        (key.as_str(), Some(token.as_str()), "eu-west-1"),
    ] {
        let r = sc(&h, key, token, region, "ListServiceActions", json!({})).await;
        r.err(400, "UnrecognizedClientException");
        assert_eq!(
            r.message(),
            "The security token included in the request is invalid."
        );
    }
    assert_eq!(h.catalog.associations_in(SPOKE_B, "us-east-1"), None);
    let stats = h.catalog.server_stats();
    assert_eq!(
        stats.total.calls["ListServiceActions"], 3,
        "counted in the totals"
    );
    assert!(
        stats.targets.iter().all(|t| t.stats.total_calls == 0),
        "and in no target"
    );
    // Unknown base keys are refused the same way, wherever they point.
    sc(
        &h,
        "AKIDNOBODY",
        None,
        "us-east-1",
        "ListServiceActions",
        json!({}),
    )
    .await
    .err(400, "UnrecognizedClientException");
}

#[tokio::test]
async fn each_target_has_its_own_token_bucket() {
    let h = fixture().await;
    // Three requests' worth of burst and (practically) no refill: a shared bucket would throttle
    // the fourth request overall; per-target buckets throttle only a target's fourth.
    h.catalog.set_faults(Faults {
        rate: Some(0.001),
        burst: 3,
        ..Faults::default()
    });
    for region in ["us-east-1", "eu-west-1"] {
        for _ in 0..3 {
            sc(&h, "AKIDHUB", None, region, "ListServiceActions", json!({}))
                .await
                .ok();
        }
    }
    sc(
        &h,
        "AKIDHUB",
        None,
        "us-east-1",
        "ListServiceActions",
        json!({}),
    )
    .await
    .err(400, "ThrottlingException");
    assert_eq!(
        h.catalog.stats_in(HUB, "us-east-1").map(|s| s.throttled),
        Some(1)
    );
    assert_eq!(
        h.catalog.stats_in(HUB, "eu-west-1").map(|s| s.throttled),
        Some(0)
    );
    // One target's knobs alone.
    assert!(h.catalog.set_faults_in(HUB, "eu-west-1", Faults::default()));
    assert!(
        !h.catalog
            .set_faults_in(SPOKE_B, "us-east-1", Faults::default())
    );
    for _ in 0..5 {
        sc(
            &h,
            "AKIDHUB",
            None,
            "eu-west-1",
            "ListServiceActions",
            json!({}),
        )
        .await
        .ok();
    }
}

#[tokio::test]
async fn two_targets_at_rate_r_run_in_parallel_without_throttling_each_other() {
    let h = fixture().await;
    let rate = 40.0;
    h.catalog.set_faults(Faults {
        rate: Some(rate),
        burst: 4,
        ..Faults::default()
    });
    let (key, token) = spoke_a_keys(&h).await;
    // Each target is driven at 80% of its own rate: together 1.6 × R, which one shared bucket
    // could not admit.
    let drive = |key: String, token: Option<String>| {
        let h = &h;
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / (0.8 * rate)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut throttled = 0;
            for _ in 0..32 {
                tick.tick().await;
                let r = sc(
                    h,
                    &key,
                    token.as_deref(),
                    "us-east-1",
                    "ListServiceActions",
                    json!({}),
                )
                .await;
                throttled += u32::from(r.status != 200);
            }
            throttled
        }
    };
    let started = Instant::now();
    let (hub, spoke) = tokio::join!(drive("AKIDHUB".into(), None), drive(key, Some(token)));
    let wall = started.elapsed();
    assert_eq!((hub, spoke), (0, 0), "neither target throttled");
    assert!(
        wall < Duration::from_secs(3),
        "in parallel, not in turn: {wall:?}"
    );
    assert_eq!(h.catalog.stats().throttled, 0);
    assert_eq!(
        h.catalog
            .stats_in(SPOKE_A, "us-east-1")
            .map(|s| s.total_calls),
        Some(32)
    );
}

#[tokio::test]
async fn stats_and_state_report_every_target() {
    let h = fixture().await;
    sc(
        &h,
        "AKIDHUB",
        None,
        "eu-west-1",
        "ListServiceActions",
        json!({}),
    )
    .await
    .ok();
    let stats = h.get("/_stats").await;
    assert_eq!(stats["total_calls"], json!(1));
    let targets: Vec<(String, String, u64)> = stats["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap_or("").to_string(),
                t["region"].as_str().unwrap_or("").to_string(),
                t["total_calls"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    let expected = [
        (HUB, "us-east-1", 0),
        (HUB, "eu-west-1", 1),
        (SPOKE_A, "us-east-1", 0),
        (SPOKE_B, "eu-west-1", 0),
    ]
    .map(|(a, r, n)| (a.to_string(), r.to_string(), n));
    assert_eq!(targets, expected);
    // The default target is the first account's first region.
    assert_eq!(
        h.get("/_state").await,
        json!([{"product": "prod-hub-web", "artifact": "pa-hub-web-v1", "action": "act-hub-restart"}])
    );
    assert_eq!(
        h.get("/_state?account=333333333333&region=eu-west-1").await,
        json!([])
    );
    let all = h.get("/_state?all=true").await;
    assert_eq!(all.as_array().map(Vec::len), Some(4));
    assert_eq!(all[2]["account"], json!(SPOKE_A));
    assert!(h.get("/_state?account=333333333333&region=us-east-1").await["message"].is_string());
    assert!(h.get("/_state?account=333333333333").await["message"].is_string());
}
