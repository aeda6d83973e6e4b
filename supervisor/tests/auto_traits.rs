//! The public handles and specs can cross threads and tasks.

use beamish_supervisor::{
    AppExit, Application, Backoff, ChildInfo, ChildSpec, DynamicSupervisor, DynamicSupervisorRef,
    FuseEvents, Fuses, RestartWindow, StartChildError, SupervisionTree, Supervisor, SupervisorRef,
    SupervisorStartError,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn handles_and_specs_are_send_and_sync() {
    send_sync::<Supervisor>();
    send_sync::<SupervisorRef>();
    send_sync::<DynamicSupervisor<String>>();
    send_sync::<DynamicSupervisorRef<String>>();
    send_sync::<ChildSpec>();
    send_sync::<ChildSpec<u64>>();
    send_sync::<Backoff>();
    send_sync::<ChildInfo>();
    send_sync::<SupervisionTree>();
    send_sync::<Fuses>();
    send_sync::<RestartWindow>();
    send_sync::<Application>();
    send_sync::<AppExit>();
    send_sync::<StartChildError>();
    send_sync::<SupervisorStartError>();
    send::<FuseEvents>();
}
