//! Runs the chat tree example (issue 13 §2) as a test, so that `cargo nextest` runs it too
//! (the facade's doc tests run it for `cargo test --doc`): Registry, PubSub, Presence and
//! named dynamic supervisors as children, a via-named room restarted and reachable by its
//! name again (R-REG-4, R-REG-2), a once child owning the listening socket (R-SUP-RT), and a
//! clean stop of the whole tree in reverse order (R-SUP-SHUT).

#[path = "../examples/chat_tree.rs"]
mod chat_tree;

#[test]
fn r_reg_4_the_chat_tree_example_runs_and_exits_cleanly() {
    chat_tree::main().expect("the example's assertions hold and it exits cleanly");
}
