//! AWS Organizations through the SDK (`aws-sdk-organizations`): the two listings an OU's
//! expansion needs ([`crate::org::Organization`]), with the base credentials (the management
//! account or a delegated administrator), at the global endpoint in us-east-1 (or the run's
//! `--endpoint-url`), every page read and the paging bounded as every other listing is, every
//! call paced by a pacer of its own (Organizations' throttling is per account, and documents no
//! rate), and errors carried as AWS gave them.

use super::errors::map_error;
use super::paging::Pages;
use super::retry::{ObserveAttempts, RetryAtPacedSlot};
use super::transport::UnreachableIsFinal;
use super::{AwsBase, timeouts};
use crate::org::{OrgAccount, OrgUnit, Organization};
use crate::pace::Pacer;
use crate::seam::ApiResult;
use aws_sdk_organizations::config::retry::RetryConfig;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The most an Organizations page may hold (`MaxResults` 1..20).
const PAGE_SIZE: i32 = 20;
const LIST_UNITS: &str = "ListOrganizationalUnitsForParent";
const LIST_ACCOUNTS: &str = "ListAccountsForParent";

/// An Organizations client made from the base configuration.
pub struct AwsOrganization {
    client: aws_sdk_organizations::Client,
    endpoint: String,
    attempt_timeout: std::time::Duration,
    pacer: Option<Arc<Pacer>>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
}

impl AwsBase {
    /// An Organizations client with the base credentials, paced by `pacer`.
    pub fn organization(&self, pacer: Option<Arc<Pacer>>) -> AwsOrganization {
        // The aws partition's Organizations endpoint is global, in us-east-1.
        let mut config = aws_sdk_organizations::config::Builder::from(&self.shared);
        // The pacer learns from every attempt's answer, as Service Catalog's does: without it
        // an adaptive pacer never leaves its cautious start (102 listings took 4 s, not 0.2).
        if let Some(pacer) = &pacer {
            config = config.interceptor(ObserveAttempts(pacer.clone()));
        }
        let config = config
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(self.options.max_attempts)
                    .with_max_backoff(self.options.max_backoff),
            )
            .retry_classifier(RetryAtPacedSlot)
            .retry_classifier(UnreachableIsFinal)
            .timeout_config(timeouts(&self.options))
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let endpoint = self.options.endpoint_url.as_deref().map_or_else(
            || "https://organizations.us-east-1.amazonaws.com".to_string(),
            |u| crate::redact::redact(u).into_owned(),
        );
        AwsOrganization {
            client: aws_sdk_organizations::Client::from_conf(config),
            endpoint,
            attempt_timeout: self.options.attempt_timeout,
            pacer,
            calls: Mutex::new(BTreeMap::new()),
        }
    }
}

impl AwsOrganization {
    /// How many calls were made per operation.
    pub fn call_counts(&self) -> BTreeMap<&'static str, u64> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    async fn before_call(&self, operation: &'static str) {
        if let Some(pacer) = &self.pacer {
            pacer.acquire().await;
        }
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(operation).or_default() += 1;
        }
    }
}

impl Organization for AwsOrganization {
    async fn list_units(&self, parent: &str) -> ApiResult<Vec<OrgUnit>> {
        let resource = format!("the organisational units below {parent}");
        let mut pages = Pages::new(LIST_UNITS, &resource, &self.endpoint);
        let mut token: Option<String> = None;
        let mut units = Vec::new();
        loop {
            self.before_call(LIST_UNITS).await;
            let page = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(parent)
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| map_error(LIST_UNITS, &self.endpoint, self.attempt_timeout, e))?;
            units.extend(page.organizational_units().iter().map(|u| OrgUnit {
                id: u.id().unwrap_or_default().to_string(),
                name: u.name().map(str::to_string),
            }));
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) => {
                    pages.next_page(next)?;
                    token = Some(next.to_string());
                }
                None => return Ok(units),
            }
        }
    }

    async fn list_accounts(&self, parent: &str) -> ApiResult<Vec<OrgAccount>> {
        let resource = format!("the accounts below {parent}");
        let mut pages = Pages::new(LIST_ACCOUNTS, &resource, &self.endpoint);
        let mut token: Option<String> = None;
        let mut accounts = Vec::new();
        loop {
            self.before_call(LIST_ACCOUNTS).await;
            let page = self
                .client
                .list_accounts_for_parent()
                .parent_id(parent)
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| map_error(LIST_ACCOUNTS, &self.endpoint, self.attempt_timeout, e))?;
            accounts.extend(page.accounts().iter().map(|a| {
                OrgAccount {
                    id: a.id().unwrap_or_default().to_string(),
                    name: a.name().map(str::to_string),
                    // `State` is the newer, finer field (it tells PENDING_ACTIVATION and CLOSED);
                    // `Status` is what older answers carry. An account with neither is not taken
                    // for active.
                    status: a
                        .state()
                        .map(|s| s.as_str().to_string())
                        .or_else(|| a.status().map(|s| s.as_str().to_string()))
                        .unwrap_or_else(|| "UNKNOWN".to_string()),
                }
            }));
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) => {
                    pages.next_page(next)?;
                    token = Some(next.to_string());
                }
                None => return Ok(accounts),
            }
        }
    }
}
