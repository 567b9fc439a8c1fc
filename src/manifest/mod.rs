//! Manifests: reading YAML files into a validated, located set of desired triples.
