//! `--output json` prints one JSON document on stdout for every outcome, each with its
//! `format_version`: results, invalid manifests (every diagnostic with file, line, column),
//! usage errors, and failures (`error` with `message`, `caused_by`, `hint`).

use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};

#[tokio::test]
async fn every_outcome_is_one_json_document_with_a_format_version() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(
        dir.path(),
        "good.yaml",
        "version: 1\nassociations:\n  - {product: prod-web, artifact: pa-web-v1, action: act-patch}\n",
    );
    let bad = write_file(
        dir.path(),
        "bad.yaml",
        "version: 1\nassociations:\n  - {product: prod web, artifact: pa-web-v1, action: act-patch}\n",
    );
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    let endpoint = catalog.endpoint();

    let validated = sc_assoc(None, &["validate", good, "--output", "json"]).await;
    assert_eq!(validated.code, 0, "{validated:?}");
    assert_eq!(validated.json()["format_version"], 1);

    let planned = sc_assoc(Some(&endpoint), &["plan", good, "--output", "json"]).await;
    assert_eq!(planned.code, 0, "{planned:?}");
    assert_eq!(planned.json()["format_version"], 1);

    let applied = sc_assoc(Some(&endpoint), &["apply", good, "--output", "json"]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(applied.json()["format_version"], 1);

    let invalid = sc_assoc(Some(&endpoint), &["plan", bad, "--output", "json"]).await;
    assert_eq!(invalid.code, 1, "{invalid:?}");
    let document = invalid.json();
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["valid"], false);
    let diagnostic = &document["diagnostics"][0];
    assert_eq!(diagnostic["file"], bad);
    assert_eq!(diagnostic["line"], 3);
    assert!(diagnostic["column"].as_u64().is_some(), "{document}");
    assert!(diagnostic["message"].as_str().is_some(), "{document}");

    let usage = sc_assoc(None, &["plan", good, "--output", "json", "--no-progres"]).await;
    assert_eq!(usage.code, 1, "{usage:?}");
    assert_eq!(usage.json()["format_version"], 1);
    assert!(usage.json()["error"]["message"].as_str().is_some());

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let failed = sc_assoc(Some(&refused), &["plan", good, "--output", "json"]).await;
    assert_eq!(failed.code, 1, "{failed:?}");
    let error = &failed.json()["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("reading the current associations"),
        "{failed:?}"
    );
    assert!(error["hint"].as_str().is_some(), "{failed:?}");
    assert_eq!(error["code"], "ConnectionRefused", "{failed:?}");
}
