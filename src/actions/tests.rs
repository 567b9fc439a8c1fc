use super::*;
use crate::manifest::{DeclaredAction, Location, ParameterType};
use crate::seam::{ActionDetail, ActionSummary};

fn declared(parameters: &[(&str, ParameterType)]) -> DeclaredAction {
    DeclaredAction {
        location: Location::new("m.yaml", 3, 5),
        name: "Restart".to_string(),
        description: None,
        document: "AWS-RestartEC2Instance".to_string(),
        version: "1".to_string(),
        assume_role: Some("arn:aws:iam::{account}:role/Ops-{region}".to_string()),
        parameters: parameters
            .iter()
            .map(|(n, k)| (n.to_string(), *k))
            .collect(),
        absent: false,
    }
}

fn place() -> Place {
    Place {
        account: Some("111111111111".to_string()),
        region: Some("eu-west-1".to_string()),
    }
}

fn detail(definition: &[(&str, &str)], description: Option<&str>) -> ActionDetail {
    ActionDetail {
        summary: ActionSummary {
            id: "act-1".to_string(),
            name: Some("Restart".to_string()),
            description: description.map(str::to_string),
            definition_type: Some("SSM_AUTOMATION".to_string()),
        },
        definition: definition
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn placeholders_are_filled_per_target() {
    let definition = Definition::declared(&declared(&[]), &place()).expect("filled");
    assert_eq!(
        definition.assume_role.as_deref(),
        Some("arn:aws:iam::111111111111:role/Ops-eu-west-1")
    );
    let unknown = Place {
        account: None,
        region: Some("eu-west-1".to_string()),
    };
    assert_eq!(
        Definition::declared(&declared(&[]), &unknown),
        Err(Unfilled("account"))
    );
}

#[test]
fn parameters_compare_as_data_in_any_order_and_spacing() {
    let wanted = Definition::declared(
        &declared(&[
            ("InstanceId", ParameterType::Target),
            ("Note", ParameterType::TextValue),
        ]),
        &place(),
    )
    .expect("filled");
    let catalog = detail(
        &[
            ("Name", "AWS-RestartEC2Instance"),
            ("Version", "1"),
            ("AssumeRole", "arn:aws:iam::111111111111:role/Ops-eu-west-1"),
            (
                "Parameters",
                r#"[ {"Type": "TEXT_VALUE", "Name": "Note"}, {"Name":"InstanceId","Type":"TARGET"} ]"#,
            ),
        ],
        // An absent description and an empty one are the same.
        Some(""),
    );
    assert_eq!(Definition::observed(&catalog).changes(&wanted), vec![]);
}

#[test]
fn no_parameters_and_an_empty_list_are_the_same() {
    let wanted = Definition::declared(&declared(&[]), &place()).expect("filled");
    let catalog = detail(
        &[
            ("Name", "AWS-RestartEC2Instance"),
            ("Version", "1"),
            ("AssumeRole", "arn:aws:iam::111111111111:role/Ops-eu-west-1"),
            ("Parameters", "[]"),
        ],
        None,
    );
    assert_eq!(Definition::observed(&catalog).changes(&wanted), vec![]);
    assert!(!wanted.spec("Restart").definition.contains_key("Parameters"));
}

#[test]
fn a_difference_is_told_field_by_field() {
    let wanted = Definition::declared(
        &declared(&[("InstanceId", ParameterType::Target)]),
        &place(),
    )
    .expect("filled");
    let catalog = detail(
        &[
            ("Name", "AWS-RestartEC2Instance"),
            ("Version", "2"),
            ("Parameters", "not json"),
        ],
        Some("old words"),
    );
    let changes = Definition::observed(&catalog).changes(&wanted);
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        ["description", "version", "assume_role", "parameters"]
    );
    assert_eq!(changes[1].from.as_deref(), Some("2"));
    assert_eq!(changes[1].to.as_deref(), Some("1"));
    assert_eq!(changes[3].from.as_deref(), Some("not json"));
    assert_eq!(changes[3].to.as_deref(), Some("InstanceId (TARGET)"));
}

#[test]
fn the_wire_form_round_trips_and_the_token_is_stable() {
    let wanted = Definition::declared(
        &declared(&[("InstanceId", ParameterType::Target)]),
        &place(),
    )
    .expect("filled");
    let spec = wanted.spec("Restart");
    assert_eq!(
        spec.definition.get("Parameters").map(String::as_str),
        Some(r#"[{"Name":"InstanceId","Type":"TARGET"}]"#)
    );
    let back = detail(
        &spec
            .definition
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        spec.description.as_deref(),
    );
    assert_eq!(Definition::observed(&back), wanted);
    let token = wanted.create_token("Restart", &place(), None);
    assert_eq!(token, wanted.create_token("Restart", &place(), None));
    assert_eq!(token.len(), 64);
    assert_ne!(
        token,
        wanted.create_token("Restart", &place(), Some("act-gone"))
    );
    let other_region = Place {
        region: Some("us-east-1".to_string()),
        ..place()
    };
    assert_ne!(token, wanted.create_token("Restart", &other_region, None));
}

#[test]
fn a_pending_id_can_never_be_a_catalog_id() {
    let id = pending_id("Restart-EC2");
    assert_eq!(pending_name(&id), Some("Restart-EC2"));
    assert!(crate::triple::check_id(&id).is_err());
    assert_eq!(pending_name("act-123"), None);
}
