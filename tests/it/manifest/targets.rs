//! The `targets:` section, rule by rule: what a valid entry looks like, and how each mistake is
//! reported — at the offending value, with every problem in the file at once.

use super::*;
use sc_assoc::target::Access;

/// A manifest whose `targets:` section is `entries` (starting on line 3), with one association.
fn with_targets(entries: &str) -> String {
    format!(
        "version: 1\ntargets:\n{entries}associations:\n  - {{product: p, artifact: a, action: x}}\n"
    )
}

/// The printed diagnostics of a manifest that must fail when read with its targets.
fn targeted_errors(text: &str) -> Vec<String> {
    match manifest::parse_str_targets(Path::new("m.yaml"), text) {
        Ok(targeted) => panic!("expected errors, got {targeted:?}"),
        Err(errors) => lines(&errors.diagnostics),
    }
}

/// The printed diagnostics of a `targets:` section that must fail.
fn target_errors(entries: &str) -> Vec<String> {
    targeted_errors(&with_targets(entries))
}

fn accepted(entries: &str) -> manifest::Targeted {
    manifest::parse_str_targets(Path::new("m.yaml"), &with_targets(entries)).expect("valid")
}

const ROLE: &str = "arn:aws:iam::{account}:role/Admin";

// --- The section and its entries ----------------------------------------------------------------

#[test]
fn targets_is_a_non_empty_list_of_mappings() {
    assert_eq!(
        targeted_errors(
            "version: 1\ntargets: {accounts: []}\nassociations: [{product: p, artifact: a, action: x}]\n"
        ),
        vec!["m.yaml:2:10: error: `targets` must be a list of targets, found a mapping"]
    );
    assert_eq!(
        target_errors("  []\n"),
        vec![
            "m.yaml:3:3: error: `targets` is empty; list at least one target, or leave \
             `targets` out for the current account in the default region"
        ]
    );
    assert_eq!(
        target_errors("  - us-east-1\n  - [a]\n"),
        vec![
            "m.yaml:3:5: error: a target must be a mapping with `accounts`, `organizational_units`, \
             `regions`, `role` or `profile`; found string `us-east-1`",
            "m.yaml:4:5: error: a target must be a mapping with `accounts`, `organizational_units`, \
             `regions`, `role` or `profile`; found a list",
        ]
    );
}

#[test]
fn unknown_keys_in_a_target_are_reported_with_a_suggestion() {
    assert_eq!(
        target_errors("  - regoins: [us-east-1]\n    colour: blue\n"),
        vec![
            "m.yaml:3:5: error: unknown key `regoins`; expected one of `accounts`, \
             `organizational_units`, `exclude_accounts`, `regions`, `role`, `external_id`, `session_name`, `profile`; did you mean `regions`?",
            "m.yaml:4:5: error: unknown key `colour`; expected one of `accounts`, \
             `organizational_units`, `exclude_accounts`, `regions`, `role`, `external_id`, `session_name`, `profile`",
        ]
    );
}

// --- Accounts and regions -----------------------------------------------------------------------

#[test]
fn account_ids_are_twelve_digits_quoted_or_not() {
    let targeted = accepted(&format!(
        "  - accounts: [222222222222, \"333333333333\", \"044444444444\"]\n    role: \"{ROLE}\"\n"
    ));
    let accounts: Vec<Option<&str>> = targeted
        .targets
        .iter()
        .map(|t| t.target.account.as_deref())
        .collect();
    assert_eq!(
        accounts,
        vec![
            Some("222222222222"),
            Some("333333333333"),
            Some("044444444444")
        ]
    );
    assert_eq!(
        target_errors(&format!(
            "  - accounts: [\"12345\", 22222222222, 2222222222222, 2.2e11, true, \"22222222222a\"]\n    \
             role: \"{ROLE}\"\n"
        )),
        vec![
            "m.yaml:3:16: error: invalid account id `12345`: it must be 12 digits",
            "m.yaml:3:25: error: invalid account id `22222222222`: it must be 12 digits",
            "m.yaml:3:38: error: invalid account id `2222222222222`: it must be 12 digits",
            "m.yaml:3:53: error: each item of `accounts` must be a 12-digit account id, found \
             number `220000000000.0`",
            "m.yaml:3:61: error: each item of `accounts` must be a 12-digit account id, found \
             boolean `true`",
            "m.yaml:3:67: error: invalid account id `22222222222a`: it must be 12 digits",
        ]
    );
}

#[test]
fn accounts_are_a_non_empty_list_each_given_once() {
    assert_eq!(
        target_errors(&format!(
            "  - accounts: [\"222222222222\", \"333333333333\", 222222222222]\n    role: \"{ROLE}\"\n\
             \x20 - accounts: []\n    role: \"{ROLE}\"\n\
             \x20 - accounts: \"444444444444\"\n    profile: spoke\n"
        )),
        vec![
            "m.yaml:3:48: error: account `222222222222` is listed twice; first at m.yaml:3:16",
            "m.yaml:5:15: error: `accounts` is empty; list at least one account id, or leave \
             `accounts` out for the current account",
            "m.yaml:7:15: error: `accounts` must be a list of accounts, found string \
             `444444444444`; write a list even for one, as in `accounts: [\"123456789012\"]`",
        ]
    );
}

#[test]
fn regions_are_region_names_each_given_once() {
    assert_eq!(
        target_errors(
            "  - regions: [us-east-1, US-EAST-1, eu-west, 7, us-east-1]\n\
             \x20 - regions: []\n\
             \x20 - regions: eu-west-1\n"
        ),
        vec![
            "m.yaml:3:26: error: invalid region `US-EAST-1`: region names look like `us-east-1`",
            "m.yaml:3:37: error: invalid region `eu-west`: region names look like `us-east-1`",
            "m.yaml:3:46: error: each item of `regions` must be a region name such as \
             `us-east-1`, found number `7`",
            "m.yaml:3:49: error: region `us-east-1` is listed twice; first at m.yaml:3:15",
            "m.yaml:4:14: error: `regions` is empty; list at least one region, or leave \
             `regions` out for the default region",
            "m.yaml:5:14: error: `regions` must be a list of regions, found string `eu-west-1`; \
             write a list even for one, as in `regions: [us-east-1]`",
        ]
    );
}

// --- How the accounts are reached ---------------------------------------------------------------

#[test]
fn role_and_profile_are_one_or_the_other() {
    assert_eq!(
        target_errors(&format!(
            "  - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n    profile: spoke\n"
        )),
        vec!["m.yaml:5:5: error: both `role` and `profile` are given; use one or the other"]
    );
}

#[test]
fn a_role_needs_accounts_to_assume_it_in() {
    assert_eq!(
        target_errors(&format!("  - regions: [us-east-1]\n    role: \"{ROLE}\"\n")),
        vec![
            "m.yaml:4:5: error: `role` needs `accounts` or `organizational_units`: the accounts \
             to assume it in"
        ]
    );
}

#[test]
fn accounts_need_a_role_or_a_profile_to_reach_them() {
    assert_eq!(
        target_errors("  - accounts: [\"222222222222\"]\n    regions: [us-east-1]\n"),
        vec![
            "m.yaml:3:5: error: `accounts` needs a way to reach them: give `role: \
             arn:aws:iam::{account}:role/NAME` (assumed in each account with the default \
             credentials) or `profile: NAME`"
        ]
    );
}

#[test]
fn a_profile_reaches_one_account_or_the_one_it_is_for() {
    assert_eq!(
        target_errors("  - accounts: [\"222222222222\", \"333333333333\"]\n    profile: spoke\n"),
        vec![
            "m.yaml:4:14: error: a profile reaches one account, but `accounts` lists 2; give \
             each profile its own entry, or use `role` to reach several accounts"
        ]
    );
    // Without `accounts`, the profile's own account.
    let targeted = accepted("  - profile: spoke\n");
    assert_eq!(targeted.targets.len(), 1);
    assert_eq!(targeted.targets[0].target.account, None);
    assert_eq!(
        targeted.targets[0].target.access,
        Access::Profile("spoke".into())
    );
    assert_eq!(
        target_errors("  - profile: \"\"\n  - profile: [a]\n"),
        vec![
            "m.yaml:3:14: error: `profile` must be the name of a profile in the AWS config \
             files, found string ``",
            "m.yaml:4:14: error: `profile` must be the name of a profile in the AWS config \
             files, found a list",
        ]
    );
}

#[test]
fn a_role_for_several_accounts_has_the_account_placeholder() {
    assert_eq!(
        target_errors(
            "  - accounts: [\"222222222222\", \"333333333333\"]\n    \
             role: arn:aws:iam::222222222222:role/Admin\n"
        ),
        vec![
            "m.yaml:4:11: error: `role` names one role for 2 accounts; write `{account}` where \
             the account id goes, as in `arn:aws:iam::{account}:role/NAME`"
        ]
    );
}

#[test]
fn a_role_is_a_role_arn_in_the_account_it_is_given_for() {
    // A fixed ARN is fine for the one account it names.
    let targeted = accepted(
        "  - accounts: [\"222222222222\"]\n    role: arn:aws:iam::222222222222:role/Admin\n",
    );
    assert_eq!(targeted.targets.len(), 1);
    assert_eq!(
        target_errors(
            "  - accounts: [\"222222222222\"]\n    role: arn:aws:iam::111111111111:role/Admin\n\
             \x20 - accounts: [\"333333333333\"]\n    role: arn:aws:iam::{acount}:role/Admin\n\
             \x20 - accounts: [\"444444444444\"]\n    role: ServiceCatalogAdmin\n\
             \x20 - accounts: [\"555555555555\"]\n    role: 42\n"
        ),
        vec![
            "m.yaml:4:11: error: `role` is a role of account `111111111111`, but it is given for \
             account `222222222222`; write `{account}` for the account id",
            "m.yaml:6:11: error: `role` must be an IAM role ARN such as \
             `arn:aws:iam::{account}:role/NAME`, found `arn:aws:iam::{acount}:role/Admin`; \
             `{account}` is the only placeholder",
            "m.yaml:8:11: error: `role` must be an IAM role ARN such as \
             `arn:aws:iam::{account}:role/NAME`, found `ServiceCatalogAdmin`",
            "m.yaml:10:11: error: `role` must be an IAM role ARN such as \
             `arn:aws:iam::{account}:role/NAME`, found number `42`",
        ]
    );
}

#[test]
fn external_id_and_session_name_follow_sts_rules() {
    let long_id = "x".repeat(1225);
    let long_name = "s".repeat(65);
    assert_eq!(
        target_errors(&format!(
            "  - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n    external_id: \"hub 7f3a\"\n    \
             session_name: \"sc assoc\"\n\
             \x20 - accounts: [\"333333333333\"]\n    role: \"{ROLE}\"\n    external_id: {long_id}\n    \
             session_name: {long_name}\n\
             \x20 - accounts: [\"444444444444\"]\n    role: \"{ROLE}\"\n    external_id: 123456\n    \
             session_name: x\n"
        )),
        vec![
            "m.yaml:5:18: error: invalid `external_id`: STS takes 2 to 1224 letters, digits or \
             `_+=,.@:/-`; this one has another character",
            "m.yaml:6:19: error: invalid `session_name`: STS takes 2 to 64 letters, digits or \
             `_+=,.@-`; `sc assoc` has ' '",
            "m.yaml:9:18: error: invalid `external_id`: STS takes 2 to 1224 letters, digits or \
             `_+=,.@:/-`; this one is 1225 long",
            format!(
                "m.yaml:10:19: error: invalid `session_name`: STS takes 2 to 64 letters, digits \
                 or `_+=,.@-`; `{}…` is 65 long",
                "s".repeat(60)
            )
            .as_str(),
            "m.yaml:13:18: error: `external_id` must be a string of 2 to 1224 letters, digits or \
             `_+=,.@:/-`, found a number; quote it so YAML keeps it as written",
            "m.yaml:14:19: error: invalid `session_name`: STS takes 2 to 64 letters, digits or \
             `_+=,.@-`; `x` is 1 long",
        ]
    );
    // At the limits, and every allowed character.
    let targeted = accepted(&format!(
        "  - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n    external_id: \"{}\"\n    \
         session_name: \"a_+=,.@-\"\n\
         \x20 - accounts: [\"333333333333\"]\n    role: \"{ROLE}\"\n    external_id: \"a_+=,.@:/-\"\n    \
         session_name: {}\n",
        "x".repeat(1224),
        "s".repeat(64),
    ));
    assert_eq!(targeted.targets.len(), 2);
}

#[test]
fn external_id_and_session_name_go_with_a_role() {
    assert_eq!(
        target_errors(
            "  - accounts: [\"222222222222\"]\n    profile: spoke\n    external_id: hub-7f3a\n\
             \x20 - regions: [us-east-1]\n    session_name: pipeline\n"
        ),
        vec![
            "m.yaml:5:5: error: `external_id` only goes with `role`: it is sent when assuming \
             the role",
            "m.yaml:7:5: error: `session_name` only goes with `role`: it names the role's session",
        ]
    );
}

#[test]
fn an_external_id_is_never_shown_in_a_message() {
    let secret = "hub-7f3a-Secret";
    for bad in [format!("\"{secret} \""), format!("[{secret}]")] {
        let text = with_targets(&format!(
            "  - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n    external_id: {bad}\n"
        ));
        let errors = manifest::parse_str_targets(Path::new("m.yaml"), &text).expect_err("invalid");
        assert!(!errors.to_string().contains(secret), "{errors}");
        assert!(!format!("{errors:?}").contains(secret));
    }
}

// --- The same target twice ----------------------------------------------------------------------

#[test]
fn a_target_declared_twice_in_one_file_is_an_error_naming_the_first() {
    assert_eq!(
        target_errors(&format!(
            "  - accounts: [\"222222222222\"]\n    regions: [us-east-1, eu-west-1]\n    role: \"{ROLE}\"\n\
             \x20 - accounts: [\"333333333333\", \"222222222222\"]\n    regions: [eu-west-1]\n    \
             role: \"{ROLE}\"\n\
             \x20 - regions: [us-east-1]\n\
             \x20 - regions: [us-east-1]\n"
        )),
        vec![
            "m.yaml:6:32: error: target `222222222222/eu-west-1` is declared twice in this file; \
             first at m.yaml:3:16",
            "m.yaml:10:15: error: target `current/us-east-1` is declared twice in this file; \
             first at m.yaml:9:15",
        ]
    );
}

#[test]
fn a_target_reached_two_ways_in_one_file_is_an_error_saying_what_differs() {
    assert_eq!(
        target_errors(&format!(
            "  - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n\
             \x20 - accounts: [\"222222222222\"]\n    profile: spoke\n\
             \x20 - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n    external_id: hub-7f3a\n\
             \x20 - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n    session_name: other\n\
             \x20 - accounts: [\"222222222222\"]\n    role: arn:aws:iam::222222222222:role/Other\n"
        )),
        vec![
            "m.yaml:5:16: error: target `222222222222` is reached through profile `spoke` here \
             but through role `arn:aws:iam::222222222222:role/Admin` at m.yaml:3:16; a target \
             is reached one way in a run",
            "m.yaml:7:16: error: target `222222222222` is given a different external id here \
             than at m.yaml:3:16; a target is reached one way in a run",
            "m.yaml:10:16: error: target `222222222222` uses session name `other` here but \
             `sc-assoc` at m.yaml:3:16; a target is reached one way in a run",
            "m.yaml:13:16: error: target `222222222222` assumes role \
             `arn:aws:iam::222222222222:role/Other` here but \
             `arn:aws:iam::222222222222:role/Admin` at m.yaml:3:16; a target is reached one way \
             in a run",
        ]
    );
}

// --- All at once, and never a panic -------------------------------------------------------------

#[test]
fn every_problem_in_the_section_is_reported_at_once() {
    let errors = target_errors(
        "  - accounts: [\"1\"]\n    regions: [mars-1]\n    role: nope\n    external_id: \"!\"\n\
         \x20 - profile: spoke\n    session_name: pipeline\n    region: us-east-1\n",
    );
    assert_eq!(
        errors,
        vec![
            "m.yaml:3:16: error: invalid account id `1`: it must be 12 digits",
            "m.yaml:4:15: error: invalid region `mars-1`: region names look like `us-east-1`",
            "m.yaml:5:11: error: `role` must be an IAM role ARN such as \
             `arn:aws:iam::{account}:role/NAME`, found `nope`",
            "m.yaml:6:18: error: invalid `external_id`: STS takes 2 to 1224 letters, digits or \
             `_+=,.@:/-`; this one is 1 long",
            "m.yaml:8:5: error: `session_name` only goes with `role`: it names the role's session",
            "m.yaml:9:5: error: unknown key `region`; expected one of `accounts`, \
             `organizational_units`, `exclude_accounts`, `regions`, `role`, `external_id`, `session_name`, `profile`; did you mean `regions`?",
        ]
    );
    // A key given twice stops the file from being judged further, as anywhere in a manifest.
    assert_eq!(
        target_errors("  - profile: spoke\n    profile: again\n    role: nope\n"),
        vec!["m.yaml:4:5: error: duplicate key `profile`; it is first given at m.yaml:3:5"]
    );
}

#[test]
fn odd_values_in_any_target_key_are_errors_not_panics() {
    let odd = [
        "~",
        "!!binary aGk=",
        "!custom x",
        "{}",
        "[[[]]]",
        "{name: x}",
        "-1",
        "0x1F",
        ".nan",
        "18446744073709551616",
        "\"ü{account}\"",
        "\"\"",
        "\"{account}\"",
    ];
    for key in [
        "accounts",
        "regions",
        "role",
        "external_id",
        "session_name",
        "profile",
    ] {
        for value in odd {
            for wrapped in [value.to_string(), format!("[{value}]")] {
                let text = with_targets(&format!(
                    "  - accounts: [\"222222222222\"]\n    role: \"{ROLE}\"\n  - {key}: {wrapped}\n"
                ));
                // Duplicate keys, type errors, whatever: reported at a place in the file,
                // never a panic.
                let located = |errors: &manifest::ManifestErrors| {
                    errors.diagnostics.iter().all(|d| {
                        d.location
                            .as_ref()
                            .is_some_and(|l| l.file.as_ref() == Path::new("m.yaml") && l.line >= 1)
                    })
                };
                if let Err(errors) = manifest::parse_str_targets(Path::new("m.yaml"), &text) {
                    assert!(located(&errors), "{key}: {wrapped}: {errors}");
                }
                // The single-target reader refuses any `targets:` section.
                match manifest::parse_str(Path::new("m.yaml"), &text) {
                    Ok(_) => panic!("{key}: {wrapped}: a manifest with targets was accepted"),
                    Err(errors) => assert!(located(&errors), "{key}: {wrapped}: {errors}"),
                }
            }
        }
    }
}
