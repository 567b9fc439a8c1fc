//! What the catalog calls the ids a run meets: the display names resolution learned while it
//! looked up `{name: ...}` references, expanded `artifacts: all | active` selectors and listed
//! service actions. Only a by-product of calls resolution makes anyway: a manifest of ids only
//! learns no names, and whoever renders a plan falls back to the bare id. Nothing here calls the
//! API or decides how a name is printed.

use std::collections::BTreeMap;

/// What the catalog calls each id resolution met: products, artifacts (within their product) and actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    products: BTreeMap<String, String>,
    /// By product id, then artifact id, as they are learned: ListProvisioningArtifacts lists one
    /// product's artifacts, and a plan line always has its product at hand.
    artifacts: BTreeMap<String, BTreeMap<String, String>>,
    actions: BTreeMap<String, String>,
}

impl Names {
    /// The product's name, if resolution learned it.
    pub fn product(&self, id: &str) -> Option<&str> {
        self.products.get(id).map(String::as_str)
    }

    /// The name of `artifact` of `product`, if resolution listed that product's artifacts.
    pub fn artifact(&self, product: &str, artifact: &str) -> Option<&str> {
        self.artifacts
            .get(product)?
            .get(artifact)
            .map(String::as_str)
    }

    /// The service action's name, if resolution listed the actions.
    pub fn action(&self, id: &str) -> Option<&str> {
        self.actions.get(id).map(String::as_str)
    }

    /// Records a product's name. A missing or blank name records nothing: it would name nothing
    /// in a plan line, where the id alone reads better.
    pub fn insert_product(&mut self, id: &str, name: Option<&str>) {
        if let Some(name) = meaningful(name) {
            self.products.insert(id.to_string(), name.to_string());
        }
    }

    /// Records the name of `artifact` of `product` (nothing for a missing or blank name).
    pub fn insert_artifact(&mut self, product: &str, artifact: &str, name: Option<&str>) {
        if let Some(name) = meaningful(name) {
            self.artifacts
                .entry(product.to_string())
                .or_default()
                .insert(artifact.to_string(), name.to_string());
        }
    }

    /// Records a service action's name (nothing for a missing or blank name).
    pub fn insert_action(&mut self, id: &str, name: Option<&str>) {
        if let Some(name) = meaningful(name) {
            self.actions.insert(id.to_string(), name.to_string());
        }
    }
}

fn meaningful(name: Option<&str>) -> Option<&str> {
    name.filter(|n| !n.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_named_within_their_product_and_blank_names_are_not_names() {
        let mut names = Names::default();
        names.insert_product("prod-web", Some("Web Server"));
        names.insert_product("prod-db", Some("  "));
        names.insert_artifact("prod-web", "pa-1", Some("v1"));
        names.insert_artifact("prod-db", "pa-2", None);
        names.insert_action("act-1", Some("Restart"));

        assert_eq!(names.product("prod-web"), Some("Web Server"));
        assert_eq!(names.product("prod-db"), None);
        assert_eq!(names.artifact("prod-web", "pa-1"), Some("v1"));
        assert_eq!(names.artifact("prod-db", "pa-1"), None);
        assert_eq!(names.artifact("prod-db", "pa-2"), None);
        assert_eq!(names.action("act-1"), Some("Restart"));
        assert_eq!(names.action("act-2"), None);
    }
}
