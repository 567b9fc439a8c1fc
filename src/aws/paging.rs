//! Bounds on paging, so an endpoint that always answers with a `NextPageToken` (or hands the same
//! token back) cannot keep a run listing forever while memory grows. A token seen before in the
//! same listing is an error at once; so is a listing longer than the API's own limits allow.
//!
//! The caps come from the service quotas (AWS Service Catalog admin guide), with headroom because
//! quotas can be raised on request, at 20 items a page (the PageSize maximum):
//! - `ListServiceActionsForProvisioningArtifact`: 25 actions per artifact is 2 pages; cap 50 pages
//!   (1,000 actions, 40 times the quota).
//! - `ListServiceActions`: 200 actions per region is 10 pages; cap 500 pages (10,000 actions).
//! - `ListProvisioningArtifactsForServiceAction` and `SearchProductsAsAdmin`: at most one item per
//!   artifact or product; 100 artifacts per product and a thousand products make 100,000 items,
//!   5,000 pages. No real catalog comes near; a stand-in that loops reaches it in minutes, not
//!   never.

use crate::seam::{ApiError, ErrorKind};
use std::collections::HashSet;

/// The most pages one listing of `operation` may take.
pub(super) fn max_pages(operation: &str) -> usize {
    match operation {
        "ListServiceActionsForProvisioningArtifact" => 50,
        "ListServiceActions" => 500,
        _ => 5_000,
    }
}

/// One listing's pages so far.
pub(super) struct Pages<'a> {
    operation: &'static str,
    resource: &'a str,
    endpoint: &'a str,
    seen: HashSet<String>,
    limit: usize,
}

impl<'a> Pages<'a> {
    pub(super) fn new(operation: &'static str, resource: &'a str, endpoint: &'a str) -> Self {
        Self {
            operation,
            resource,
            endpoint,
            seen: HashSet::new(),
            limit: max_pages(operation),
        }
    }

    /// Records that the page just read pointed to `token`; fails when that token was already
    /// followed, or when one more page would pass the limit.
    pub(super) fn next_page(&mut self, token: &str) -> Result<(), ApiError> {
        if !self.seen.insert(token.to_string()) {
            return Err(self.error(
                "PagingLoop",
                format!(
                    "{} returned a page token it had already returned while listing {}: the listing would never end",
                    self.endpoint, self.resource
                ),
            ));
        }
        // `seen` holds one token per page read after the first.
        if self.seen.len() >= self.limit {
            return Err(self.error(
                "TooManyPages",
                format!(
                    "{} kept returning pages past {} while listing {}, more than the API's limits allow",
                    self.endpoint, self.limit, self.resource
                ),
            ));
        }
        Ok(())
    }

    fn error(&self, code: &str, message: String) -> ApiError {
        ApiError {
            kind: ErrorKind::Protocol,
            operation: self.operation,
            code: code.to_string(),
            message,
            request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_token_is_an_error_at_once() {
        let mut pages = Pages::new("ListServiceActions", "the service actions", "http://x");
        assert!(pages.next_page("a").is_ok());
        assert!(pages.next_page("b").is_ok());
        let error = pages.next_page("a").expect_err("loop");
        assert_eq!(error.code, "PagingLoop");
        assert_eq!(error.kind, ErrorKind::Protocol);
        assert!(
            error.message.contains("the service actions"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_listing_stops_at_its_cap() {
        let mut pages = Pages::new(
            "ListServiceActionsForProvisioningArtifact",
            "product `p` artifact `a`",
            "http://x",
        );
        let reached = (0..1000)
            .map(|i| pages.next_page(&format!("t{i}")))
            .position(|r| r.is_err());
        // The first page needs no token: 50 pages are 49 tokens, the 50th token is one too many.
        assert_eq!(reached, Some(49));
    }
}
