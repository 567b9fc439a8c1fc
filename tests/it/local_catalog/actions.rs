//! Service actions made, changed and deleted through the API, as AWS does it: the model's
//! constraints on names and definitions, names that may repeat, the 200-per-region quota,
//! `ResourceInUseException` for an action still associated, token replay (the stale-token trap
//! for a create), `ListServiceActions` behind the writes; over both protocols, per target.

use super::*;

const CREATE: &str = "CreateServiceAction";
const UPDATE: &str = "UpdateServiceAction";
const DELETE: &str = "DeleteServiceAction";
const DESCRIBE: &str = "DescribeServiceAction";

fn restart(token: &str) -> Value {
    json!({
        "Name": "RestartInstance",
        "Description": "Restart it",
        "DefinitionType": "SSM_AUTOMATION",
        "Definition": {
            "Name": "AWS-RestartEC2Instance",
            "Version": "1",
            "AssumeRole": "LAUNCH_ROLE",
            "Parameters": "[{\"Name\":\"InstanceId\",\"Type\":\"TARGET\"}]"
        },
        "IdempotencyToken": token
    })
}

fn action_id(reply: &Reply) -> String {
    reply.body["ServiceActionDetail"]["ServiceActionSummary"]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn create_describe_update_and_delete_over_both_protocols() {
    for wire in [Wire::Json, Wire::Cbor] {
        let h = Harness::seeded(SEED).await;
        let created = h.call_over(wire, CREATE, restart("t-1")).await;
        created.ok();
        let id = action_id(&created);
        assert!(id.starts_with("act-") && id.len() == 17, "{id}");
        assert_eq!(
            created.body["ServiceActionDetail"]["Definition"]["Name"],
            "AWS-RestartEC2Instance"
        );
        let described = h.call_over(wire, DESCRIBE, json!({"Id": id})).await;
        assert_eq!(
            described.ok().body["ServiceActionDetail"]["ServiceActionSummary"]["Name"],
            "RestartInstance"
        );
        // Names are not unique: a second create with another token makes a second action.
        let again = h.call_over(wire, CREATE, restart("t-2")).await;
        assert_ne!(action_id(again.ok()), id, "{wire:?}");
        let updated = h
            .call_over(
                wire,
                UPDATE,
                json!({"Id": id, "Description": "Reboot it", "Definition": {"Name": "AWS-RestartEC2Instance", "Version": "2"}}),
            )
            .await;
        let detail = &updated.ok().body["ServiceActionDetail"];
        assert_eq!(detail["ServiceActionSummary"]["Description"], "Reboot it");
        assert_eq!(
            detail["Definition"],
            json!({"Name": "AWS-RestartEC2Instance", "Version": "2"})
        );
        // Associated, it cannot be deleted.
        h.call_over(wire, ASSOCIATE, triple_body("prod-web", "pa-web-v1", &id))
            .await
            .ok();
        h.call_over(wire, DELETE, json!({"Id": id, "IdempotencyToken": "d-1"}))
            .await
            .err(400, "ResourceInUseException");
        h.call_over(
            wire,
            DISASSOCIATE,
            triple_body("prod-web", "pa-web-v1", &id),
        )
        .await
        .ok();
        h.call_over(wire, DELETE, json!({"Id": id, "IdempotencyToken": "d-2"}))
            .await
            .ok();
        h.call_over(wire, DESCRIBE, json!({"Id": id}))
            .await
            .err(400, "ResourceNotFoundException");
        h.call_over(wire, UPDATE, json!({"Id": id, "Description": "x"}))
            .await
            .err(400, "ResourceNotFoundException");
    }
}

#[tokio::test]
async fn the_model_judges_names_and_definitions() {
    let h = Harness::seeded(SEED).await;
    let mut bad_name = restart("t-1");
    bad_name["Name"] = json!("Restart Instance");
    let reply = h.call(CREATE, bad_name).await;
    reply.err(400, "ValidationException");
    assert!(reply.message().contains("'name'"), "{reply:?}");
    let mut bad_key = restart("t-2");
    bad_key["Definition"]["Document"] = json!("x");
    h.call(CREATE, bad_key)
        .await
        .err(400, "ValidationException");
    let mut long_value = restart("t-3");
    long_value["Definition"]["Version"] = json!("9".repeat(1025));
    h.call(CREATE, long_value)
        .await
        .err(400, "ValidationException");
    let mut no_token = restart("t-4");
    no_token
        .as_object_mut()
        .expect("map")
        .remove("IdempotencyToken");
    h.call(CREATE, no_token)
        .await
        .err(400, "ValidationException");
}

#[tokio::test]
async fn a_replayed_create_token_answers_the_first_action_even_once_it_is_gone() {
    let h = Harness::seeded(SEED).await;
    let first = action_id(h.call(CREATE, restart("same")).await.ok());
    let replayed = action_id(h.call(CREATE, restart("same")).await.ok());
    assert_eq!(first, replayed, "the same token makes one action");
    assert!(h.catalog.delete_action_out_of_band(None, &first));
    // The stale-token trap: success, the deleted action's id, nothing made.
    let trapped = action_id(h.call(CREATE, restart("same")).await.ok());
    assert_eq!(trapped, first);
    h.call(DESCRIBE, json!({"Id": first}))
        .await
        .err(400, "ResourceNotFoundException");
}

#[tokio::test]
async fn two_hundred_actions_per_region_and_no_more() {
    let h = Harness::seeded(SEED).await;
    // The seed has three.
    for i in 0..197 {
        h.call(CREATE, restart(&format!("t-{i}"))).await.ok();
    }
    h.call(CREATE, restart("t-over"))
        .await
        .err(400, "LimitExceededException");
}

#[tokio::test]
async fn the_listing_shows_a_created_action_only_after_the_lag() {
    let mut config = CatalogConfig::new(Seed::from_yaml_str(SEED).expect("seed"));
    config.faults = Faults {
        listing_lag: Duration::from_millis(500),
        ..Faults::default()
    };
    let h = Harness::start(config).await;
    let id = action_id(h.call(CREATE, restart("t-1")).await.ok());
    let listed = |reply: &Reply| ids(&reply.body, "ServiceActionSummaries").contains(&id);
    assert!(!listed(h.call("ListServiceActions", json!({})).await.ok()));
    // The action exists for every other call at once.
    h.call(DESCRIBE, json!({"Id": id})).await.ok();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(listed(h.call("ListServiceActions", json!({})).await.ok()));
}
