//! Registry metadata (Elixir's `Registry.put_meta/3`, `meta/2`, `delete_meta/2`): values kept
//! with the registry itself, not with any process.

mod common;

use beamish_registry::{Keys, Registry};
use common::node;

/// Metadata is stored, read back by type, replaced and deleted.
#[tokio::test]
async fn registry_metadata_put_get_delete() {
    let node = node();
    let reg: Registry<u32, ()> = Registry::start(&node, Keys::Unique).unwrap();
    assert_eq!(reg.meta::<u32>("custom"), None);
    reg.put_meta("custom", 7u32);
    assert_eq!(reg.meta::<u32>("custom"), Some(7));
    // Asked for with another type, it reads as absent.
    assert_eq!(reg.meta::<String>("custom"), None);
    reg.put_meta("custom", String::from("seven"));
    assert_eq!(reg.meta::<String>("custom").as_deref(), Some("seven"));
    // Every clone is the same registry.
    assert_eq!(
        reg.clone().meta::<String>("custom").as_deref(),
        Some("seven")
    );
    assert!(reg.delete_meta("custom"));
    assert!(!reg.delete_meta("custom"));
    assert_eq!(reg.meta::<String>("custom"), None);
}
