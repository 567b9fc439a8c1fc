//! AWS Organizations at the catalog's own endpoint, as the SDK calls it: AWS JSON 1.1 with
//! `X-Amz-Target: AWSOrganizationsV20161128.<Operation>`, SigV4 scoped to `organizations`.
//! It answers the listing operations an OU's expansion uses (`ListRoots`,
//! `ListOrganizationalUnitsForParent`, `ListAccountsForParent`, `ListChildren`,
//! `DescribeOrganization`, `DescribeOrganizationalUnit`) from the seed's `organization:`
//! section, with the API's rules: only the management account or a delegated administrator
//! may list (`AccessDeniedException`), an account in no organisation gets
//! `AWSOrganizationsNotInUseException`, `ParentId` must match the model's pattern
//! (`InvalidInputException`) and exist (`ParentNotFoundException`), pages hold `MaxResults`
//! 1..20 items (20 by default) and a `NextToken` the server made.
//!
//! ```yaml
//! organization:
//!   management_account: "111111111111"
//!   delegated_administrators: []      # accounts that may list too
//!   root: r-ab12
//!   units:
//!     - {id: ou-ab12-11111111, name: Workloads}            # parent: the root
//!     - {id: ou-ab12-22222222, name: Prod, parent: ou-ab12-11111111}
//!   members:
//!     - {account: "222222222222", parent: ou-ab12-22222222}  # status: ACTIVE
//!     - {account: "444444444444", parent: ou-ab12-22222222, status: SUSPENDED}
//! ```

use super::identity::{Directory, Refusal};
use super::wire::{self, Answer, Protocol, ServiceError};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The model's `targetPrefix`.
pub const TARGET_PREFIX: &str = "AWSOrganizationsV20161128";

/// The operations served, in the order the counters keep them.
pub const OPERATIONS: [&str; 6] = [
    "ListRoots",
    "ListOrganizationalUnitsForParent",
    "ListAccountsForParent",
    "ListChildren",
    "DescribeOrganization",
    "DescribeOrganizationalUnit",
];

const PAGE_MAX: usize = 20;

/// The seed's `organization:` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    pub management_account: String,
    #[serde(default)]
    pub delegated_administrators: Vec<String>,
    pub root: String,
    #[serde(default)]
    pub units: Vec<SeedUnit>,
    #[serde(default)]
    pub members: Vec<SeedMember>,
}

/// An organisational unit; its parent is the root unless given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUnit {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// An account's place in the organisation; under the root unless `parent` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMember {
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// `ACTIVE` (default), `SUSPENDED` or `PENDING_CLOSURE`.
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "ACTIVE".to_string()
}

impl SeedOrganization {
    /// Every id well formed, every parent known, every account once.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !crate::org::is_unit_id(&self.root) || !self.root.starts_with("r-") {
            anyhow::bail!("organization.root `{}` is not a root id (r-…)", self.root);
        }
        let mut known = vec![self.root.as_str()];
        for unit in &self.units {
            if !crate::org::is_unit_id(&unit.id) || !unit.id.starts_with("ou-") {
                anyhow::bail!("organization unit `{}` is not an OU id (ou-…-…)", unit.id);
            }
            if known.contains(&unit.id.as_str()) {
                anyhow::bail!("organization unit `{}` is given twice", unit.id);
            }
            known.push(&unit.id);
        }
        for unit in &self.units {
            if let Some(parent) = &unit.parent
                && !known.contains(&parent.as_str())
            {
                anyhow::bail!(
                    "organization unit `{}` has unknown parent `{parent}`",
                    unit.id
                );
            }
        }
        let mut accounts = Vec::new();
        for member in &self.members {
            if !crate::target::is_account_id(&member.account) {
                anyhow::bail!(
                    "organization member `{}` is not an account id",
                    member.account
                );
            }
            if accounts.contains(&member.account.as_str()) {
                anyhow::bail!("organization member `{}` is given twice", member.account);
            }
            accounts.push(&member.account);
            if let Some(parent) = &member.parent
                && !known.contains(&parent.as_str())
            {
                anyhow::bail!(
                    "organization member `{}` has unknown parent `{parent}`",
                    member.account
                );
            }
            if !["ACTIVE", "SUSPENDED", "PENDING_CLOSURE"].contains(&member.status.as_str()) {
                anyhow::bail!(
                    "organization member `{}` has status `{}`; ACTIVE, SUSPENDED or PENDING_CLOSURE",
                    member.account,
                    member.status
                );
            }
        }
        Ok(())
    }

    fn parent_of<'a>(&'a self, parent: &'a Option<String>) -> &'a str {
        parent.as_deref().unwrap_or(&self.root)
    }

    /// The organisation's id, `o-` and the root's suffix: stable for a seed.
    fn id(&self) -> String {
        format!("o-{}", &self.root[2..])
    }

    /// An Organizations ARN as AWS forms it:
    /// `arn:aws:organizations::MANAGEMENT:KIND/o-ID/RESOURCE`.
    fn arn(&self, kind: &str, resource: &str) -> String {
        format!(
            "arn:aws:organizations::{}:{kind}/{}/{resource}",
            self.management_account,
            self.id()
        )
    }
}

/// The organisation the catalog serves, changeable while it runs (an account joins), and its
/// call counters.
#[derive(Debug, Default)]
pub struct OrgService {
    organization: RwLock<Option<SeedOrganization>>,
    calls: [AtomicU64; OPERATIONS.len()],
    /// The seed's account names: a member without a name of its own goes by its account's.
    names: BTreeMap<String, String>,
}

impl OrgService {
    pub fn new(organization: Option<SeedOrganization>, names: BTreeMap<String, String>) -> Self {
        let organization = organization.map(|mut organization| {
            for member in &mut organization.members {
                if member.name.is_none() {
                    member.name = names.get(&member.account).cloned();
                }
            }
            organization
        });
        OrgService {
            organization: RwLock::new(organization),
            names,
            ..OrgService::default()
        }
    }

    /// Calls per operation, by name.
    pub fn calls(&self) -> BTreeMap<&'static str, u64> {
        OPERATIONS
            .iter()
            .zip(&self.calls)
            .map(|(name, count)| (*name, count.load(Ordering::Relaxed)))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// Counts a request for its operation as it arrives, before the latency the catalog adds:
    /// every request is counted whatever its fate, as Service Catalog's are, and a test can see
    /// a call under way.
    pub fn arrived(&self, headers: &HeaderMap) {
        let operation = operation_of(headers);
        if let Some(index) = OPERATIONS.iter().position(|o| *o == operation) {
            self.calls[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Places `account` under `parent` (the root when `None`), as an account that joins (or
    /// moves within) the organisation. False when there is no organisation or no such parent.
    pub fn join(&self, account: &str, parent: Option<&str>, status: &str) -> bool {
        let mut slot = self.organization.write().unwrap_or_else(|e| e.into_inner());
        let Some(org) = slot.as_mut() else {
            return false;
        };
        if let Some(parent) = parent
            && parent != org.root
            && !org.units.iter().any(|u| u.id == parent)
        {
            return false;
        }
        org.members.retain(|m| m.account != account);
        org.members.push(SeedMember {
            account: account.to_string(),
            name: self.names.get(account).cloned(),
            parent: parent.map(str::to_string),
            status: status.to_string(),
        });
        true
    }
}

/// The operation a request names (`X-Amz-Target`), empty if none.
fn operation_of(headers: &HeaderMap) -> String {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(&format!("{TARGET_PREFIX}.")))
        .unwrap_or_default()
        .to_string()
}

/// Whether a JSON request is meant for Organizations.
pub fn is_organizations(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(&format!("{TARGET_PREFIX}.")))
}

/// What the request needs besides its own bytes.
pub struct Context<'a> {
    pub service: &'a OrgService,
    pub directory: &'a Directory,
}

/// Answers one Organizations request.
pub fn answer(ctx: &Context<'_>, headers: &HeaderMap, body: &[u8], request_id: &str) -> Response {
    let answer = match handle(ctx, headers, body) {
        Ok(value) => Answer::ok(value),
        Err(error) => Answer::error(&error),
    };
    wire::respond(Protocol::Json, None, &answer, request_id)
}

fn handle(ctx: &Context<'_>, headers: &HeaderMap, body: &[u8]) -> Result<Value, ServiceError> {
    let operation = operation_of(headers);
    if !OPERATIONS.contains(&operation.as_str()) {
        return Err(ServiceError::new(
            400,
            "UnknownOperationException",
            format!("Operation {operation} is not supported by this local catalog"),
        ));
    };
    let caller = wire::check_auth(headers)?;
    if caller.service != "organizations" {
        return Err(ServiceError::new(
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'organizations'. ",
        ));
    }
    let principal = match ctx
        .directory
        .identify(&caller.access_key_id, caller.security_token.as_deref())
    {
        Ok(principal) => principal,
        Err(Refusal::Unrecognized) => return Err(wire::unrecognized_client()),
        Err(Refusal::Expired) => return Err(wire::expired_token()),
    };
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ServiceError::new(
                400,
                "SerializationException",
                format!("Could not read the body: {e}"),
            )
        })?
    };
    let guard = ctx
        .service
        .organization
        .read()
        .unwrap_or_else(|e| e.into_inner());
    let Some(org) = guard.as_ref() else {
        return Err(ServiceError::new(
            400,
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        ));
    };
    if principal.account != org.management_account
        && !org.delegated_administrators.contains(&principal.account)
    {
        return Err(ServiceError::new(
            400,
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ));
    }
    let string = |key: &str| request.get(key).and_then(Value::as_str).map(str::to_string);
    match operation.as_str() {
        "DescribeOrganization" => Ok(json!({"Organization": {
            "Id": org.id(),
            "Arn": format!("arn:aws:organizations::{0}:organization/{1}", org.management_account, org.id()),
            "MasterAccountId": org.management_account,
            "FeatureSet": "ALL",
        }})),
        "ListRoots" => {
            let items = vec![json!({
                "Id": org.root,
                "Arn": org.arn("root", &org.root),
                "Name": "Root",
                "PolicyTypes": [],
            })];
            page(&request, "Roots", items, "roots")
        }
        "DescribeOrganizationalUnit" => {
            let id = string("OrganizationalUnitId").unwrap_or_default();
            if !id.starts_with("ou-") || !crate::org::is_unit_id(&id) {
                return Err(invalid_pattern("organizationalUnitId", &id));
            }
            let unit = org.units.iter().find(|u| u.id == id).ok_or_else(|| {
                ServiceError::new(
                    400,
                    "OrganizationalUnitNotFoundException",
                    "You specified an organizational unit that doesn't exist.",
                )
            })?;
            Ok(json!({"OrganizationalUnit": {
                "Id": unit.id,
                "Arn": org.arn("ou", &unit.id),
                "Name": unit.name,
            }}))
        }
        _ => {
            let parent = string("ParentId").unwrap_or_default();
            if !crate::org::is_unit_id(&parent) {
                return Err(invalid_pattern("parentId", &parent));
            }
            if parent != org.root && !org.units.iter().any(|u| u.id == parent) {
                return Err(ServiceError::new(
                    400,
                    "ParentNotFoundException",
                    "We can't find a root or OU with the ParentId that you specified.",
                ));
            }
            let units = || {
                org.units
                    .iter()
                    .filter(|u| org.parent_of(&u.parent) == parent)
                    .collect::<Vec<_>>()
            };
            let members = || {
                org.members
                    .iter()
                    .filter(|m| org.parent_of(&m.parent) == parent)
                    .collect::<Vec<_>>()
            };
            match operation.as_str() {
                "ListOrganizationalUnitsForParent" => {
                    let items = units()
                        .into_iter()
                        .map(|u| json!({"Id": u.id, "Arn": org.arn("ou", &u.id), "Name": u.name}))
                        .collect();
                    page(&request, "OrganizationalUnits", items, &parent)
                }
                "ListAccountsForParent" => {
                    let items = members()
                        .into_iter()
                        .map(|m| {
                            // The seed has no e-mail addresses: a placeholder of the
                            // account's, as the shape has one for every account.
                            json!({
                                "Id": m.account,
                                "Arn": org.arn("account", &m.account),
                                "Email": format!("aws+{}@example.com", m.account),
                                "Name": m.name.clone().unwrap_or_else(|| m.account.clone()),
                                "Status": m.status,
                                "State": m.status,
                                "JoinedMethod": "CREATED",
                            })
                        })
                        .collect();
                    page(&request, "Accounts", items, &parent)
                }
                _ => {
                    let kind = string("ChildType").unwrap_or_default();
                    let items: Vec<Value> = match kind.as_str() {
                        "ORGANIZATIONAL_UNIT" => units()
                            .into_iter()
                            .map(|u| json!({"Id": u.id, "Type": kind}))
                            .collect(),
                        "ACCOUNT" => members()
                            .into_iter()
                            .map(|m| json!({"Id": m.account, "Type": kind}))
                            .collect(),
                        _ => {
                            return Err(ServiceError::new(
                                400,
                                "InvalidInputException",
                                "You provided a value that does not match the required pattern.",
                            ));
                        }
                    };
                    page(&request, "Children", items, &format!("{parent}/{kind}"))
                }
            }
        }
    }
}

fn invalid_pattern(field: &str, value: &str) -> ServiceError {
    ServiceError::new(
        400,
        "InvalidInputException",
        format!(
            "You provided a value that does not match the required pattern: {field} `{value}`."
        ),
    )
}

/// One page of `items` under `key`, from the request's `NextToken`, `MaxResults` at a time. A
/// token is the listing's name and the offset, so one made for another listing is refused.
fn page(
    request: &Value,
    key: &str,
    items: Vec<Value>,
    listing: &str,
) -> Result<Value, ServiceError> {
    let size = match request.get("MaxResults") {
        None | Some(Value::Null) => PAGE_MAX,
        Some(value) => match value.as_u64() {
            Some(n) if (1..=PAGE_MAX as u64).contains(&n) => n as usize,
            _ => {
                return Err(ServiceError::new(
                    400,
                    "InvalidInputException",
                    "You provided a value that is out of range: MaxResults must be 1 to 20.",
                ));
            }
        },
    };
    let start = match request.get("NextToken").and_then(Value::as_str) {
        None => 0,
        Some(token) => hex::decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| {
                let (name, offset) = text.rsplit_once('#')?;
                (name == listing)
                    .then(|| offset.parse::<usize>().ok())
                    .flatten()
            })
            .filter(|offset| *offset <= items.len())
            .ok_or_else(|| {
                ServiceError::new(
                    400,
                    "InvalidInputException",
                    "The pagination token is invalid (INVALID_PAGINATION_TOKEN).",
                )
            })?,
    };
    let end = (start + size).min(items.len());
    let mut answer = serde_json::Map::new();
    answer.insert(key.to_string(), Value::Array(items[start..end].to_vec()));
    if end < items.len() {
        answer.insert(
            "NextToken".to_string(),
            Value::String(hex::encode(format!("{listing}#{end}"))),
        );
    }
    Ok(Value::Object(answer))
}
