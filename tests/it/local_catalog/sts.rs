//! STS `AssumeRole` at the catalog's endpoint: through aws-config's own `AssumeRoleProvider` (the
//! client sc-assoc will use, so its parser is the judge of the XML), and by hand for the exact
//! wire: AccessDenied for an unknown role, an untrusted caller and a missing or wrong external
//! id; STS's validation wording; the credential errors; malformed form bodies.

use super::accounts::{FIXTURE, between, sts, sts_raw};
use super::*;
use aws_sdk_servicecatalog::config::{BehaviorVersion, Credentials, ProvideCredentials, Region};
use std::time::SystemTime;

const SPOKE_A_ADMIN: &str = "arn:aws:iam::222222222222:role/ServiceCatalogAdmin";
const SPOKE_B_ADMIN: &str = "arn:aws:iam::333333333333:role/ServiceCatalogAdmin";

async fn fixture() -> Harness {
    Harness::start(CatalogConfig::from_seed_file(
        SeedFile::from_file(std::path::Path::new(FIXTURE)).expect("fixture"),
    ))
    .await
}

/// The SDK configuration a target's client would start from: the hub's base keys, the local
/// endpoint, a region.
async fn sdk_config(h: &Harness, region: &'static str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(sc_assoc::aws::https_client())
        .region(Region::new(region))
        .endpoint_url(h.catalog.endpoint())
        .credentials_provider(Credentials::new(
            "AKIDHUB",
            "hub-secret",
            None,
            None,
            "test",
        ))
        .load()
        .await
}

/// The product id "Web Server" resolves to through a Service Catalog client using `provider`.
async fn web_server_id(
    h: &Harness,
    region: &'static str,
    provider: impl ProvideCredentials + 'static,
) -> String {
    let config = aws_sdk_servicecatalog::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(sc_assoc::aws::https_client())
        .region(Region::new(region))
        .credentials_provider(provider)
        .endpoint_url(h.catalog.endpoint())
        .build();
    let sdk = aws_sdk_servicecatalog::Client::from_conf(config);
    let out = sdk
        .describe_product_as_admin()
        .name("Web Server")
        .send()
        .await
        .expect("describe by name");
    let summary = out
        .product_view_detail()
        .and_then(|d| d.product_view_summary())
        .expect("summary");
    summary.product_id().unwrap_or_default().to_string()
}

#[tokio::test]
async fn aws_configs_assume_role_provider_gets_credentials_bound_to_the_role_account() {
    let h = fixture().await;
    let base = sdk_config(&h, "us-east-1").await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(SPOKE_A_ADMIN)
        .session_name("sc-assoc")
        .configure(&base)
        .build()
        .await;
    let creds = provider.provide_credentials().await.expect("assumed");
    assert!(creds.access_key_id().starts_with("ASIA"), "{creds:?}");
    assert_eq!(creds.access_key_id().len(), 20);
    assert!(creds.session_token().is_some_and(|t| t.len() > 100));
    let expiry = creds.expiry().expect("an expiration");
    let left = expiry
        .duration_since(SystemTime::now())
        .expect("in the future");
    assert!((3500..=3600).contains(&left.as_secs()), "{left:?}");

    // The same name is a different product in each account: resolution is per target.
    assert_eq!(web_server_id(&h, "us-east-1", provider).await, "prod-a-web");
    let hub = Credentials::new("AKIDHUB", "hub-secret", None, None, "test");
    assert_eq!(web_server_id(&h, "us-east-1", hub).await, "prod-hub-web");

    // An external id and a longer session, through the provider's own options; spoke-b only
    // has eu-west-1, and STS itself answers in any region.
    let provider = aws_config::sts::AssumeRoleProvider::builder(SPOKE_B_ADMIN)
        .session_name("sc-assoc")
        .external_id("hub-7f3a")
        .session_length(Duration::from_secs(7200))
        .configure(&sdk_config(&h, "eu-west-1").await)
        .build()
        .await;
    assert_eq!(web_server_id(&h, "eu-west-1", provider).await, "prod-b-web");
    // Each client's identity cache asks the provider again, so count sessions, not calls.
    let assumed = h.catalog.stats().sts_calls["AssumeRole"];
    assert!(assumed >= 2, "{assumed}");
    assert_eq!(h.catalog.session_count() as u64, assumed);
}

#[tokio::test]
async fn the_provider_reports_access_denied_for_a_wrong_external_id() {
    let h = fixture().await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(SPOKE_B_ADMIN)
        .session_name("sc-assoc")
        .external_id("guessed")
        .configure(&sdk_config(&h, "us-east-1").await)
        .build()
        .await;
    let err = provider.provide_credentials().await.expect_err("refused");
    let text = format!("{err:?}");
    assert!(text.contains("AccessDenied"), "{text}");
    assert!(
        text.contains("is not authorized to perform: sts:AssumeRole"),
        "{text}"
    );
}

#[tokio::test]
async fn roles_refuse_unknown_untrusted_and_wrong_external_id_callers_with_access_denied() {
    let h = fixture().await;
    let assume = |role: &str, extra: &[(&'static str, &'static str)]| {
        let mut form = vec![
            ("Action", "AssumeRole".to_string()),
            ("Version", "2011-06-15".to_string()),
            ("RoleArn", role.to_string()),
            ("RoleSessionName", "sc-assoc".to_string()),
        ];
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        form
    };
    let hub = ("AKIDHUB", "arn:aws:iam::111111111111:user/hub");
    let spoke_b = ("AKIDSPOKEB", "arn:aws:iam::333333333333:user/spoke-b");
    for ((key, caller), role, extra, why) in [
        (
            hub,
            "arn:aws:iam::222222222222:role/NoSuchRole",
            &[][..],
            "unknown role",
        ),
        (
            hub,
            "arn:aws:iam::999999999999:role/ServiceCatalogAdmin",
            &[][..],
            "unknown account",
        ),
        (
            hub,
            "arn:aws:iam::222222222222:role/Locked",
            &[][..],
            "untrusted caller",
        ),
        (
            spoke_b,
            "arn:aws:iam::111111111111:role/ServiceCatalogAdmin",
            &[][..],
            "own-account trust",
        ),
        (hub, SPOKE_B_ADMIN, &[][..], "external id missing"),
        (
            hub,
            SPOKE_B_ADMIN,
            &[("ExternalId", "hub-0000")][..],
            "external id wrong",
        ),
    ] {
        let (status, xml) = sts(&h, key, None, &assume(role, extra)).await;
        assert_eq!(status, 403, "{why}: {xml}");
        assert_eq!(between(&xml, "<Code>", "</Code>"), "AccessDenied", "{why}");
        assert_eq!(
            between(&xml, "<Message>", "</Message>"),
            format!(
                "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role}"
            ),
            "{why}"
        );
    }
    // The role the hub may not assume admits the account it trusts.
    let (status, xml) = sts(
        &h,
        "AKIDSPOKEB",
        None,
        &assume("arn:aws:iam::222222222222:role/Locked", &[]),
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(h.catalog.stats().sts_calls["AssumeRole"], 7);
    // The exact shape, from the hub, for the role that trusts only spoke-b.
    let (status, xml) = sts(
        &h,
        "AKIDHUB",
        None,
        &assume("arn:aws:iam::222222222222:role/Locked", &[]),
    )
    .await;
    assert_eq!(status, 403);
    assert!(xml.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
    assert_eq!(between(&xml, "<Type>", "</Type>"), "Sender");
    assert_eq!(between(&xml, "<Code>", "</Code>"), "AccessDenied");
    assert_eq!(
        between(&xml, "<Message>", "</Message>"),
        "User: arn:aws:iam::111111111111:user/hub is not authorized to perform: sts:AssumeRole \
         on resource: arn:aws:iam::222222222222:role/Locked"
    );
    assert_eq!(between(&xml, "<RequestId>", "</RequestId>").len(), 36);
    // The right external id is admitted.
    let (status, xml) = sts(
        &h,
        "AKIDHUB",
        None,
        &assume(SPOKE_B_ADMIN, &[("ExternalId", "hub-7f3a")]),
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.starts_with("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">")
    );
    assert_eq!(
        between(&xml, "<Arn>", "</Arn>"),
        "arn:aws:sts::333333333333:assumed-role/ServiceCatalogAdmin/sc-assoc"
    );
    assert!(between(&xml, "<AssumedRoleId>", "</AssumedRoleId>").starts_with("AROA"));
    assert!(between(&xml, "<AssumedRoleId>", "</AssumedRoleId>").ends_with(":sc-assoc"));
    assert!(between(&xml, "<Expiration>", "</Expiration>").ends_with('Z'));
    assert_eq!(between(&xml, "<RequestId>", "</RequestId>").len(), 36);
}

/// An STS form, as `sts()` sends it.
type Form = Vec<(&'static str, String)>;

/// Access key, form, then the status, code and message expected.
type Refused = (Option<&'static str>, Form, u16, &'static str, &'static str);

fn form(pairs: &[(&'static str, &str)]) -> Form {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

#[tokio::test]
async fn parameters_are_validated_in_sts_wording() {
    let h = fixture().await;
    let base = [("Action", "AssumeRole"), ("Version", "2011-06-15")];
    let cases: [(&[(&'static str, &str)], &str); 6] = [
        (
            &[("RoleArn", SPOKE_A_ADMIN), ("RoleSessionName", "a:b")],
            "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ),
        (
            &[
                ("RoleArn", "arn:short"),
                ("RoleSessionName", "s"),
                ("DurationSeconds", "899"),
            ],
            "3 validation errors detected: Value 'arn:short' at 'roleArn' failed to satisfy \
             constraint: Member must have length greater than or equal to 20; Value 's' at \
             'roleSessionName' failed to satisfy constraint: Member must have length greater \
             than or equal to 2; Value '899' at 'durationSeconds' failed to satisfy constraint: \
             Member must have value greater than or equal to 900",
        ),
        (
            &[("RoleArn", SPOKE_A_ADMIN)],
            "1 validation error detected: Value null at 'roleSessionName' failed to satisfy \
             constraint: Member must not be null",
        ),
        (
            &[
                ("RoleArn", SPOKE_A_ADMIN),
                ("RoleSessionName", "s1"),
                ("DurationSeconds", "43201"),
            ],
            "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy \
             constraint: Member must have value less than or equal to 43200",
        ),
        (
            &[
                ("RoleArn", "arn:aws:iam::222222222222:user/Bob"),
                ("RoleSessionName", "s1"),
            ],
            "Request ARN is invalid",
        ),
        (
            &[
                ("RoleArn", SPOKE_A_ADMIN),
                ("RoleSessionName", "s1"),
                ("DurationSeconds", "7200"),
            ],
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ),
    ];
    for (params, message) in cases {
        let mut f = form(&base);
        f.extend(form(params));
        let (status, xml) = sts(&h, "AKIDHUB", None, &f).await;
        assert_eq!(status, 400, "{xml}");
        assert_eq!(between(&xml, "<Code>", "</Code>"), "ValidationError");
        assert_eq!(between(&xml, "<Message>", "</Message>"), message);
    }
}

#[tokio::test]
async fn actions_versions_signatures_and_keys_are_refused_as_sts_refuses_them() {
    let h = fixture().await;
    let identity = form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]);
    let cases: [Refused; 6] = [
        (
            None,
            identity.clone(),
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
        (
            Some("AKIDNOBODY"),
            identity.clone(),
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        (
            Some("AKIDHUB"),
            form(&[("Action", "GetSessionToken"), ("Version", "2011-06-15")]),
            400,
            "InvalidAction",
            "Could not find operation GetSessionToken for version 2011-06-15",
        ),
        (
            Some("AKIDHUB"),
            form(&[("Action", "AssumeRole")]),
            400,
            "InvalidAction",
            "Could not find operation AssumeRole for version NO_VERSION_SPECIFIED",
        ),
        (
            Some("AKIDHUB"),
            form(&[]),
            400,
            "MissingAction",
            "Missing Action",
        ),
        (
            Some("ASIAAAAAAAAAAAAAAAAA"),
            identity.clone(),
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
    ];
    for (key, f, status, code, message) in cases {
        let auth = key.map(|k| super::accounts::auth(k, "us-east-1", "sts"));
        let body = super::accounts::encode(&f);
        let reply = sts_raw(&h, auth.as_deref(), None, body.into_bytes()).await;
        let xml = String::from_utf8_lossy(&reply.raw).into_owned();
        assert_eq!(reply.status, status, "{xml}");
        assert_eq!(reply.content_type.as_deref(), Some("text/xml"));
        assert_eq!(between(&xml, "<Code>", "</Code>"), code);
        assert_eq!(between(&xml, "<Message>", "</Message>"), message);
    }
    // Signed for Service Catalog but shaped as STS: the scope is wrong for STS.
    let reply = sts_raw(
        &h,
        Some(&super::accounts::auth(
            "AKIDHUB",
            "us-east-1",
            "servicecatalog",
        )),
        None,
        super::accounts::encode(&identity).into_bytes(),
    )
    .await;
    let xml = String::from_utf8_lossy(&reply.raw).into_owned();
    assert_eq!(reply.status, 403, "{xml}");
    assert_eq!(between(&xml, "<Code>", "</Code>"), "SignatureDoesNotMatch");
    // Bodies that are not well-formed forms never break the server: they lack an action.
    for junk in [
        &b"\xff\xfe\x00garbage"[..],
        b"%zz%%%=&&&==",
        b"Action",
        b"Action=AssumeRole&Version=2011-06-15&RoleArn=%ff%fe&RoleSessionName=%00%01",
    ] {
        let reply = sts_raw(
            &h,
            Some(&super::accounts::auth("AKIDHUB", "us-east-1", "sts")),
            None,
            junk.to_vec(),
        )
        .await;
        assert_eq!(reply.status, 400, "{junk:?}");
        let xml = String::from_utf8_lossy(&reply.raw).into_owned();
        assert!(
            ["MissingAction", "InvalidAction", "ValidationError"]
                .contains(&between(&xml, "<Code>", "</Code>")),
            "{xml}"
        );
    }
}

#[tokio::test]
async fn temporary_keys_need_their_own_token_expire_and_limit_role_chaining() {
    let h = fixture().await;
    let assume = |role: &str, session: &str, extra: &[(&'static str, &str)]| {
        let mut f = form(&[
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", role),
            ("RoleSessionName", session),
        ]);
        f.extend(form(extra));
        f
    };
    let hub_admin = "arn:aws:iam::111111111111:role/ServiceCatalogAdmin";
    let (status, xml) = sts(&h, "AKIDHUB", None, &assume(hub_admin, "chain", &[])).await;
    assert_eq!(status, 200, "{xml}");
    let key = between(&xml, "<AccessKeyId>", "</AccessKeyId>").to_string();
    let token = between(&xml, "<SessionToken>", "</SessionToken>").to_string();

    let identity = form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]);
    let (status, xml) = sts(&h, &key, Some(&token), &identity).await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.starts_with("<GetCallerIdentityResponse"));
    assert_eq!(between(&xml, "<Account>", "</Account>"), "111111111111");
    assert_eq!(
        between(&xml, "<Arn>", "</Arn>"),
        "arn:aws:sts::111111111111:assumed-role/ServiceCatalogAdmin/chain"
    );
    let (status, xml) = sts(&h, &key, None, &identity).await;
    assert_eq!(
        (status, between(&xml, "<Code>", "</Code>")),
        (403, "InvalidClientTokenId")
    );
    let (status, xml) = sts(&h, &key, Some("not-the-token"), &identity).await;
    assert_eq!(
        (status, between(&xml, "<Code>", "</Code>")),
        (403, "InvalidClientTokenId")
    );

    // Role chaining (the hub role's session into spoke-a) is limited to one hour.
    let (status, xml) = sts(
        &h,
        &key,
        Some(&token),
        &assume(SPOKE_A_ADMIN, "chain2", &[("DurationSeconds", "3700")]),
    )
    .await;
    assert_eq!(status, 400, "{xml}");
    assert_eq!(
        between(&xml, "<Message>", "</Message>"),
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by \
         role chaining."
    );
    let (status, xml) = sts(
        &h,
        &key,
        Some(&token),
        &assume(SPOKE_A_ADMIN, "chain2", &[]),
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert!(between(&xml, "<Arn>", "</Arn>").starts_with("arn:aws:sts::222222222222:"));

    h.catalog.expire_sessions();
    let (status, xml) = sts(&h, &key, Some(&token), &identity).await;
    assert_eq!(
        (status, between(&xml, "<Code>", "</Code>")),
        (400, "ExpiredToken")
    );
    let reply = super::accounts::sc(
        &h,
        &key,
        Some(&token),
        "us-east-1",
        "ListServiceActions",
        json!({}),
    )
    .await;
    reply.err(400, "ExpiredTokenException");
}
