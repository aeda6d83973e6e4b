//! `allocated_bytes` estimates what a mailbox's queues hold, for introspection (issue 5): it
//! grows with queued messages and an idle mailbox reports nothing.

use beamish_mailbox::{Inbox, Mailbox};

#[test]
fn allocated_bytes_follows_the_queues() {
    let mb: Mailbox<u8, [u64; 4]> = Mailbox::default();
    assert_eq!(mb.allocated_bytes(), 0, "an idle mailbox holds no heap");
    for _ in 0..100 {
        mb.send([0; 4]).unwrap();
    }
    let full = mb.allocated_bytes();
    assert!(full >= 100 * 32, "100 slots of 32 bytes, got {full}");

    // Taken into the receiver's buffer: still counted, as buffered messages.
    let mut inbox = Inbox::new();
    inbox.try_recv(&mb).unwrap();
    assert!(mb.allocated_bytes() >= 99 * 32);

    // A control item allocates the control lane.
    let before = mb.allocated_bytes();
    mb.push_control(1).unwrap();
    assert!(mb.allocated_bytes() > before);
}
