//! Manifests read per target (`manifest::load_targets`): what a `targets:` section expands to,
//! how files merge for each target, what is reported once for the whole run, and how the schema
//! and serde types describe the section.

use super::*;
use sc_assoc::manifest::{TargetDesired, Targeted};
use sc_assoc::target::{Access, AssumeRole, DEFAULT_SESSION_NAME, TargetSpec};

/// The example: two accounts in two regions through a role, the current account in two
/// regions, and one account through a profile.
const HUB_AND_SPOKE: &str = "\
version: 1
targets:
  - accounts: [\"222222222222\", 333333333333]
    regions: [us-east-1, eu-west-1]
    role: arn:aws:iam::{account}:role/ServiceCatalogAdmin
    external_id: hub-7f3a
    session_name: sc-assoc-pipeline
  - regions: [us-east-1, eu-west-1]
  - accounts: [\"444444444444\"]
    profile: spoke-c
associations:
  - {product: prod-1, artifact: pa-1, action: act-1}
";

fn targeted(text: &str) -> Targeted {
    manifest::parse_str_targets(Path::new("m.yaml"), text).expect("valid")
}

fn target(account: Option<&str>, region: Option<&str>, access: Access) -> TargetSpec {
    TargetSpec {
        account: account.map(str::to_string),
        region: region.map(str::to_string),
        access,
    }
}

fn hub_role(account: &str) -> Access {
    Access::Role(AssumeRole {
        role_arn: format!("arn:aws:iam::{account}:role/ServiceCatalogAdmin"),
        external_id: Some("hub-7f3a".into()),
        session_name: "sc-assoc-pipeline".into(),
    })
}

fn labels(targeted: &Targeted) -> Vec<String> {
    targeted
        .targets
        .iter()
        .map(|t| t.target.to_string())
        .collect()
}

/// Manifest files written to a temporary directory, loaded with their targets.
struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn load(&self) -> Result<Targeted, ManifestErrors> {
        manifest::load_targets(&[self.dir.path().to_path_buf()])
    }

    /// Diagnostics as printed, with the directory cut from paths.
    fn lines(&self, diagnostics: &[manifest::Diagnostic]) -> Vec<String> {
        let prefix = format!("{}/", self.dir.path().display());
        diagnostics
            .iter()
            .map(|d| d.to_string().replace(&prefix, ""))
            .collect()
    }

    fn errors(&self) -> Vec<String> {
        match self.load() {
            Ok(targeted) => panic!("expected errors, got {targeted:?}"),
            Err(errors) => self.lines(&errors.diagnostics),
        }
    }
}

fn by_label<'t>(targeted: &'t Targeted, label: &str) -> &'t TargetDesired {
    targeted
        .targets
        .iter()
        .find(|t| t.target.to_string() == label)
        .unwrap_or_else(|| panic!("no target {label} in {:?}", labels(targeted)))
}

// --- What a section expands to ------------------------------------------------------------------

#[test]
fn accounts_times_regions_expand_in_order_with_the_role_filled_in() {
    let targeted = targeted(HUB_AND_SPOKE);
    assert!(targeted.declared);
    let hub = |account: &str, region: &str| target(Some(account), Some(region), hub_role(account));
    let found: Vec<TargetSpec> = targeted.targets.iter().map(|t| t.target.clone()).collect();
    assert_eq!(
        found,
        vec![
            hub("222222222222", "us-east-1"),
            hub("222222222222", "eu-west-1"),
            hub("333333333333", "us-east-1"),
            hub("333333333333", "eu-west-1"),
            target(None, Some("us-east-1"), Access::Default),
            target(None, Some("eu-west-1"), Access::Default),
            target(
                Some("444444444444"),
                None,
                Access::Profile("spoke-c".into())
            ),
        ]
    );
    // Each is placed at its account, or at its region when it has no account.
    let locations: Vec<String> = targeted
        .targets
        .iter()
        .map(|t| t.location.as_ref().expect("declared").to_string())
        .collect();
    assert_eq!(
        locations,
        vec![
            "m.yaml:3:16",
            "m.yaml:3:16",
            "m.yaml:3:32",
            "m.yaml:3:32",
            "m.yaml:8:15",
            "m.yaml:8:26",
            "m.yaml:9:16",
        ]
    );
    for each in &targeted.targets {
        assert_eq!(each.desired.triples.len(), 1, "{}", each.target);
        assert_eq!(each.desired.files, vec![PathBuf::from("m.yaml")]);
    }
    assert_eq!(targeted.files, vec![PathBuf::from("m.yaml")]);
    assert!(targeted.warnings.is_empty());
}

#[test]
fn a_role_without_a_session_name_uses_the_default_one() {
    let targeted = targeted(
        "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    \
         role: arn:aws:iam::{account}:role/A\n\
         associations: [{product: p, artifact: a, action: x}]\n",
    );
    assert_eq!(
        targeted.targets[0].target.access,
        Access::Role(AssumeRole {
            role_arn: "arn:aws:iam::222222222222:role/A".into(),
            external_id: None,
            session_name: DEFAULT_SESSION_NAME.into(),
        })
    );
}

#[test]
fn an_entry_without_accounts_or_regions_is_the_current_account_in_the_default_region() {
    let targeted = targeted(
        "version: 1\ntargets: [{}]\nassociations: [{product: p, artifact: a, action: x}]\n",
    );
    assert_eq!(targeted.targets.len(), 1);
    assert!(targeted.targets[0].target.is_current());
    assert_eq!(
        targeted.targets[0].location,
        Some(Location::new("m.yaml", 2, 11))
    );
}

#[test]
fn a_file_without_targets_is_the_current_target_exactly_as_parse_str_reads_it() {
    let text = "version: 1\naccept_language: jp\nassociations:\n\
                \x20 - {product: p, artifact: a, actions: [x, x]}\n";
    let targeted = targeted(text);
    let single = parse(text).expect("valid");
    assert!(!targeted.declared);
    assert_eq!(targeted.targets.len(), 1);
    assert_eq!(targeted.targets[0].target, TargetSpec::current());
    assert_eq!(targeted.targets[0].location, None);
    assert_eq!(targeted.targets[0].desired, single);
    assert_eq!(targeted.warnings, single.warnings);
    assert_eq!(targeted.accept_language, Some(AcceptLanguage::Jp));
    assert_eq!(targeted.files, vec![PathBuf::from("m.yaml")]);
}

// --- Several files ------------------------------------------------------------------------------

#[test]
fn each_target_merges_exactly_the_files_that_name_it() {
    let run = Run::new(&[
        (
            "a.yaml",
            "version: 1\ntargets:\n  - accounts: [\"222222222222\", \"333333333333\"]\n    \
             regions: [us-east-1]\n    role: arn:aws:iam::{account}:role/A\n\
             associations: [{product: p, artifact: a, action: act-a}]\n",
        ),
        (
            "b.yaml",
            "version: 1\nassociations: [{product: p, artifact: a, action: act-b}]\n",
        ),
        (
            "c.yaml",
            "version: 1\ntargets:\n  - accounts: [\"333333333333\"]\n    regions: [us-east-1]\n    \
             role: arn:aws:iam::{account}:role/A\n\
             associations: [{product: p, artifact: a, action: act-c}]\n",
        ),
    ]);
    let targeted = run.load().expect("valid");
    assert!(targeted.declared);
    assert_eq!(
        labels(&targeted),
        vec![
            "222222222222/us-east-1",
            "333333333333/us-east-1",
            "current"
        ]
    );
    let actions = |label: &str| -> Vec<String> {
        by_label(&targeted, label)
            .desired
            .triples
            .keys()
            .map(|t| t.action.clone())
            .collect()
    };
    assert_eq!(actions("222222222222/us-east-1"), vec!["act-a"]);
    assert_eq!(actions("333333333333/us-east-1"), vec!["act-a", "act-c"]);
    assert_eq!(actions("current"), vec!["act-b"]);
    assert_eq!(
        by_label(&targeted, "333333333333/us-east-1").desired.files,
        vec![run.path("a.yaml"), run.path("c.yaml")]
    );
    assert_eq!(
        by_label(&targeted, "current").desired.files,
        vec![run.path("b.yaml")]
    );
    assert_eq!(by_label(&targeted, "current").location, None);
    assert_eq!(
        by_label(&targeted, "333333333333/us-east-1").location,
        Some(Location::new(run.path("a.yaml"), 3, 32))
    );
    assert_eq!(
        targeted.files,
        vec![run.path("a.yaml"), run.path("b.yaml"), run.path("c.yaml")]
    );
}

#[test]
fn a_target_reached_two_ways_across_files_is_an_error_at_the_second() {
    let run = Run::new(&[
        (
            "a.yaml",
            "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    \
             role: arn:aws:iam::{account}:role/A\n\
             associations: [{product: p, artifact: a, action: x}]\n",
        ),
        (
            "b.yaml",
            "version: 1\ntargets:\n  - accounts: [\"222222222222\"]\n    profile: spoke\n\
             associations: [{product: p, artifact: a, action: y}]\n",
        ),
    ]);
    assert_eq!(
        run.errors(),
        vec![
            "b.yaml:3:16: error: target `222222222222` is reached through profile `spoke` here \
             but through role `arn:aws:iam::222222222222:role/A` at a.yaml:3:16; a target is \
             reached one way in a run"
        ]
    );
}

#[test]
fn a_problem_of_a_file_feeding_several_targets_is_reported_once() {
    let actions = (0..26)
        .map(|i| format!("act-{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let two_targets = "version: 1\ntargets:\n  - regions: [us-east-1, eu-west-1]\n";
    let run = Run::new(&[(
        "a.yaml",
        &format!(
            "{two_targets}associations:\n  - {{product: p, artifact: a, actions: [x, x]}}\n\
             \x20 - {{product: p, artifact: b, actions: [{actions}]}}\n"
        ),
    )]);
    assert_eq!(
        run.errors(),
        vec![
            "a.yaml:5:44: warning: association `p / a / x` is declared twice; also at a.yaml:5:41",
            "a.yaml:6:28: error: artifact `b` of product `p` is given 26 service actions; AWS \
             allows at most 25 per provisioning artifact",
        ]
    );
    // Without the error, the warning is the run's once and each target's own.
    let run = Run::new(&[(
        "a.yaml",
        &format!("{two_targets}associations:\n  - {{product: p, artifact: a, actions: [x, x]}}\n"),
    )]);
    let targeted = run.load().expect("only a warning");
    assert_eq!(run.lines(&targeted.warnings).len(), 1);
    for each in &targeted.targets {
        assert_eq!(each.desired.warnings.len(), 1);
    }
}

#[test]
fn the_run_has_one_language_whichever_targets_files_feed() {
    let association = "associations: [{product: p, artifact: a, action: x}]\n";
    let run = Run::new(&[
        (
            "a.yaml",
            &format!(
                "version: 1\naccept_language: jp\ntargets: [{{regions: [us-east-1]}}]\n{association}"
            ),
        ),
        (
            "b.yaml",
            &format!(
                "version: 1\naccept_language: en\ntargets: [{{regions: [eu-west-1]}}]\n{association}"
            ),
        ),
    ]);
    assert_eq!(
        run.errors(),
        vec![
            "b.yaml:2:18: error: `accept_language` is `en` here but `jp` at a.yaml:2:18; all \
             manifests in one run must agree"
        ]
    );
    // A target whose files set no language gets the run's.
    let run = Run::new(&[
        (
            "a.yaml",
            &format!(
                "version: 1\naccept_language: jp\ntargets: [{{regions: [us-east-1]}}]\n{association}"
            ),
        ),
        ("b.yaml", &format!("version: 1\n{association}")),
    ]);
    let targeted = run.load().expect("valid");
    assert_eq!(targeted.accept_language, Some(AcceptLanguage::Jp));
    assert!(
        targeted
            .targets
            .iter()
            .all(|t| t.desired.accept_language == Some(AcceptLanguage::Jp))
    );
}

// --- Callers that cannot keep targets apart -----------------------------------------------------

#[test]
fn load_and_parse_str_refuse_a_file_with_targets_at_its_targets_key() {
    let refusal = "error: this file declares `targets`; read it with `manifest::load_targets`, \
                   which keeps each target's associations apart (`manifest::load` would merge \
                   them into one set for the current account)";
    let text = "version: 1\ntargets: [{regions: [us-east-1]}]\n\
                associations: [{product: p, artifact: a, action: x}]\n";
    assert_eq!(errors(text), vec![format!("m.yaml:2:1: {refusal}")]);
    let run = Run::new(&[
        ("a.yaml", text),
        (
            "b.yaml",
            "version: 1\nassociations: [{product: p, artifact: a, action: y}]\n",
        ),
    ]);
    let errors = manifest::load(&[run.dir.path().to_path_buf()]).expect_err("refused");
    assert_eq!(
        run.lines(&errors.diagnostics),
        vec![format!("a.yaml:2:1: {refusal}")]
    );
}

#[test]
fn the_external_id_appears_in_no_debug_output() {
    let targeted = targeted(HUB_AND_SPOKE);
    let Access::Role(role) = &targeted.targets[0].target.access else {
        panic!("a role");
    };
    assert_eq!(role.external_id.as_deref(), Some("hub-7f3a"));
    assert!(!format!("{targeted:?}").contains("hub-7f3a"));
    assert!(!format!("{:#?}", targeted.targets[0]).contains("hub-7f3a"));
    let raw: RawManifest = serde_yaml::from_str(HUB_AND_SPOKE).expect("serde reads it");
    assert!(!format!("{raw:?}").contains("hub-7f3a"));
}

// --- Serde types and schema ---------------------------------------------------------------------

#[test]
fn the_serde_types_read_a_targeted_manifest() {
    let raw: RawManifest = serde_yaml::from_str(HUB_AND_SPOKE).expect("serde reads it");
    let targets = raw.targets.expect("targets");
    assert_eq!(targets.len(), 3);
    let accounts: Vec<&str> = targets[0]
        .accounts
        .iter()
        .flatten()
        .map(|a| a.0.as_str())
        .collect();
    assert_eq!(accounts, vec!["222222222222", "333333333333"]);
    let unknown = HUB_AND_SPOKE.replace("profile: spoke-c", "profle: spoke-c");
    assert!(serde_yaml::from_str::<RawManifest>(&unknown).is_err());
    assert!(manifest::parse_str_targets(Path::new("m.yaml"), &unknown).is_err());
}

#[test]
fn the_schema_declares_targets() {
    let schema = manifest::json_schema();
    let targets = &schema["properties"]["targets"];
    assert_eq!(targets["type"], "array");
    assert_eq!(targets["minItems"], 1);
    assert_eq!(targets["items"]["$ref"], "#/definitions/Target");
    let target = &schema["definitions"]["Target"];
    assert_eq!(target["additionalProperties"], false);
    assert_eq!(target["properties"]["accounts"]["minItems"], 1);
    assert_eq!(target["properties"]["regions"]["minItems"], 1);
    assert_eq!(
        target["dependencies"]["role"],
        serde_json::json!({ "anyOf": [
            { "required": ["accounts"] },
            { "required": ["organizational_units"] }
        ] })
    );
    assert_eq!(target["properties"]["organizational_units"]["minItems"], 1);
    assert_eq!(
        target["dependencies"]["exclude_accounts"],
        serde_json::json!(["organizational_units"])
    );
    assert_eq!(
        target["dependencies"]["external_id"],
        serde_json::json!(["role"])
    );
    assert_eq!(
        target["not"],
        serde_json::json!({ "required": ["role", "profile"] })
    );
    let definitions = &schema["definitions"];
    assert_eq!(
        definitions["AccountId"]["oneOf"][0]["pattern"],
        "^[0-9]{12}$"
    );
    assert_eq!(definitions["AccountId"]["oneOf"][1]["type"], "integer");
    for (name, pattern) in [
        ("Region", "^[a-z]+(-[a-z]+)+-[0-9]{1,2}$"),
        ("ExternalId", "^[A-Za-z0-9_+=,.@:/-]{2,1224}$"),
        ("SessionName", "^[A-Za-z0-9_+=,.@-]{2,64}$"),
    ] {
        assert_eq!(definitions[name]["pattern"], pattern, "{name}");
    }
}

/// The schema's patterns say what validation says, so an editor flags what a run would refuse.
#[test]
fn the_schema_patterns_agree_with_validation() {
    let schema = manifest::json_schema();
    let pattern = |name: &str, index: Option<usize>| {
        let definition = &schema["definitions"][name];
        let text = match index {
            Some(i) => definition["oneOf"][i]["pattern"].as_str(),
            None => definition["pattern"].as_str(),
        };
        regex::Regex::new(text.expect("a pattern")).expect("a regex")
    };
    let region = pattern("Region", None);
    for sample in [
        "us-east-1",
        "us-gov-west-1",
        "ap-southeast-3",
        "us-east",
        "US-EAST-1",
        "us--east-1",
        "us-east-100",
        "east-1",
    ] {
        assert_eq!(
            region.is_match(sample),
            sc_assoc::target::is_region(sample),
            "{sample}"
        );
    }
    let account = pattern("AccountId", Some(0));
    for sample in [
        "222222222222",
        "22222222222",
        "2222222222222",
        "22222222222a",
    ] {
        assert_eq!(
            account.is_match(sample),
            sc_assoc::target::is_account_id(sample),
            "{sample}"
        );
    }
    let role = pattern("Role", None);
    for (sample, valid) in [
        ("arn:aws:iam::{account}:role/Admin", true),
        ("arn:aws:iam::222222222222:role/path/Admin", true),
        ("arn:aws-cn:iam::222222222222:role/Admin", true),
        ("arn:aws:iam::{acount}:role/Admin", false),
        ("arn:aws:iam::222222222222:user/Admin", false),
        ("arn:aws:iam::222222222222:role/", false),
    ] {
        assert_eq!(role.is_match(sample), valid, "{sample}");
        let text = format!(
            "version: 1\ntargets: [{{accounts: [\"222222222222\"], role: \"{sample}\"}}]\n\
             associations: [{{product: p, artifact: a, action: x}}]\n"
        );
        let accepted = manifest::parse_str_targets(Path::new("m.yaml"), &text).is_ok();
        assert_eq!(accepted, valid, "{sample}");
    }
    let session = pattern("SessionName", None);
    let external = pattern("ExternalId", None);
    for (sample, as_session, as_external) in [
        ("sc-assoc", true, true),
        ("a:b/c", false, true),
        ("x", false, false),
        ("has space", false, false),
    ] {
        assert_eq!(session.is_match(sample), as_session, "{sample}");
        assert_eq!(external.is_match(sample), as_external, "{sample}");
    }
}

// --- Scale --------------------------------------------------------------------------------------

/// A large manifest without targets read per target costs what reading it alone costs: the one
/// merge takes the files, nothing is cloned. Run with
/// `cargo test --release --test it -- --ignored --nocapture manifest::targeted::hundred`.
#[test]
#[ignore = "timing; run in release"]
fn hundred_thousand_triples_without_targets_take_the_single_merge() {
    let mut text = String::from("version: 1\nassociations:\n");
    for i in 0..100_000 {
        text.push_str(&format!(
            "  - product: prod-{:05}\n    artifact: pa-{}\n    action: act-{}\n",
            i / 1000,
            (i / 20) % 50,
            i % 20
        ));
    }
    // Each result is dropped before the next run, so neither pays for the other's memory.
    for round in 1..=2 {
        let started = std::time::Instant::now();
        let single = parse(&text).expect("valid");
        let alone = started.elapsed();
        assert_eq!(single.triples.len(), 100_000);
        drop(single);
        let started = std::time::Instant::now();
        let targeted = targeted(&text);
        let per_target = started.elapsed();
        assert_eq!(targeted.targets[0].desired.triples.len(), 100_000);
        println!("round {round}: parse_str {alone:?}, parse_str_targets {per_target:?}");
    }
}
