use super::*;
use std::sync::Mutex;

/// An organisation in memory: children by parent.
#[derive(Default)]
struct Tree {
    units: BTreeMap<String, Vec<OrgUnit>>,
    accounts: BTreeMap<String, Vec<OrgAccount>>,
    calls: Mutex<usize>,
    refuse: Option<&'static str>,
    /// A unit that is listed as a child but is gone when listed itself (moved mid-walk).
    gone: Option<&'static str>,
}

impl Tree {
    fn unit(mut self, parent: &str, id: &str) -> Self {
        self.units
            .entry(parent.to_string())
            .or_default()
            .push(OrgUnit {
                id: id.to_string(),
                name: None,
            });
        self
    }

    fn account(mut self, parent: &str, id: &str, status: &str) -> Self {
        self.accounts
            .entry(parent.to_string())
            .or_default()
            .push(OrgAccount {
                id: id.to_string(),
                name: Some(format!("n{id}")),
                status: status.to_string(),
            });
        self
    }

    fn known(&self, parent: &str) -> ApiResult<()> {
        *self.calls.lock().unwrap() += 1;
        if let Some(code) = self.refuse {
            return Err(error(code));
        }
        if self.gone == Some(parent) {
            return Err(error("ParentNotFoundException"));
        }
        if parent.starts_with("r-") || self.units.values().flatten().any(|u| u.id == parent) {
            Ok(())
        } else {
            Err(error("ParentNotFoundException"))
        }
    }
}

fn error(code: &str) -> ApiError {
    ApiError {
        kind: ErrorKind::Other,
        operation: "ListAccountsForParent",
        code: code.to_string(),
        message: "no".to_string(),
        request_id: None,
    }
}

impl Organization for Tree {
    async fn list_units(&self, parent: &str) -> ApiResult<Vec<OrgUnit>> {
        self.known(parent)?;
        Ok(self.units.get(parent).cloned().unwrap_or_default())
    }

    async fn list_accounts(&self, parent: &str) -> ApiResult<Vec<OrgAccount>> {
        self.known(parent)?;
        Ok(self.accounts.get(parent).cloned().unwrap_or_default())
    }
}

fn ids(accounts: &[OrgAccount]) -> Vec<&str> {
    accounts.iter().map(|a| a.id.as_str()).collect()
}

#[tokio::test]
async fn nested_units_expand_to_every_active_account_below_them() {
    let tree = Tree::default()
        .unit("r-ab12", "ou-ab12-00000001")
        .unit("ou-ab12-00000001", "ou-ab12-00000002")
        .unit("ou-ab12-00000002", "ou-ab12-00000003")
        .account("r-ab12", "100000000000", "ACTIVE")
        .account("ou-ab12-00000001", "200000000000", "ACTIVE")
        .account("ou-ab12-00000003", "300000000000", "ACTIVE")
        .account("ou-ab12-00000003", "400000000000", "SUSPENDED")
        .account("ou-ab12-00000002", "500000000000", "PENDING_CLOSURE");
    let expanded = expand(&tree, &["ou-ab12-00000001".to_string()], 4)
        .await
        .expect("expands");
    assert_eq!(ids(&expanded[0].accounts), ["200000000000", "300000000000"]);
    assert_eq!(ids(&expanded[0].skipped), ["400000000000", "500000000000"]);
    assert_eq!(expanded[0].units_visited, 3);
    assert!(
        expanded[0]
            .line()
            .contains("400000000000 (n400000000000) SUSPENDED")
    );
    let root = expand(&tree, &["r-ab12".to_string()], 4)
        .await
        .expect("expands");
    assert_eq!(root[0].accounts.len(), 3);
}

#[tokio::test]
async fn errors_name_the_unit_and_say_what_to_do() {
    let tree = Tree::default().unit("r-ab12", "ou-ab12-00000001");
    let missing = expand(&tree, &["ou-ab12-99999999".to_string()], 2)
        .await
        .expect_err("no such unit");
    assert!(matches!(missing, OrgError::NotFound { .. }), "{missing:?}");
    assert!(
        missing
            .to_string()
            .contains("`ou-ab12-99999999` does not exist")
    );
    for (code, hinted) in [
        ("AccessDeniedException", true),
        ("AWSOrganizationsNotInUseException", true),
        ("TooManyRequestsException", false),
    ] {
        let refused = Tree {
            refuse: Some(code),
            ..Tree::default()
        };
        let error = expand(&refused, &["r-ab12".to_string()], 2)
            .await
            .expect_err("refused");
        assert_eq!(error.hint().is_some(), hinted, "{code}: {error:?}");
        assert_eq!(error.api_error().map(|e| e.code.as_str()), Some(code));
    }
}

#[tokio::test]
async fn a_loop_in_the_tree_ends() {
    let tree = Tree::default()
        .unit("r-ab12", "ou-ab12-00000001")
        .unit("ou-ab12-00000001", "ou-ab12-00000002")
        .unit("ou-ab12-00000002", "ou-ab12-00000001")
        .account("ou-ab12-00000002", "200000000000", "ACTIVE");
    let expanded = expand(&tree, &["ou-ab12-00000001".to_string()], 2)
        .await
        .expect("expands");
    assert_eq!(ids(&expanded[0].accounts), ["200000000000"]);
    assert_eq!(
        *tree.calls.lock().unwrap(),
        4,
        "each unit listed once, both ways"
    );
}

#[test]
fn unit_ids_follow_the_api_pattern() {
    for good in [
        "r-ab12",
        "ou-ab12-cd34ef56",
        "r-0123456789abcdef",
        "ou-a1b2-0000000000",
    ] {
        assert!(is_unit_id(good), "{good}");
    }
    for bad in [
        "",
        "r-ab1",
        "ou-ab12",
        "ou-AB12-cd34ef56",
        "ou-ab12-cd34",
        "123456789012",
        "ou-ab12-cd34ef56-x",
    ] {
        assert!(!is_unit_id(bad), "{bad}");
    }
}

#[tokio::test]
async fn a_failure_below_the_unit_names_the_unit_and_where_below_it() {
    let tree = Tree {
        gone: Some("ou-ab12-00000002"),
        ..Tree::default()
            .unit("r-ab12", "ou-ab12-00000001")
            .unit("ou-ab12-00000001", "ou-ab12-00000002")
    };
    let error = expand(&tree, &["ou-ab12-00000001".to_string()], 2)
        .await
        .expect_err("a unit below went away");
    assert!(matches!(error, OrgError::NotFound { .. }), "{error:?}");
    // The manifest's unit, for its location; the one below, for the message.
    assert_eq!(error.unit(), "ou-ab12-00000001");
    assert_eq!(error.at().listing.as_deref(), Some("ou-ab12-00000002"));
    assert_eq!(
        error.to_string(),
        "organisational unit `ou-ab12-00000001` (at `ou-ab12-00000002`) does not exist in this \
         organisation"
    );
}
