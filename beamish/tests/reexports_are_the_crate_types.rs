//! The facade adds no types of its own: every name it exports is the underlying crate's item,
//! so values flow between code that imports `beamish::…` and code that imports
//! `beamish_process::…` without conversion.

use std::any::TypeId;

fn same<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

#[test]
fn top_level_and_prelude_names_are_the_process_crate_types() {
    use beamish::prelude as p;
    use beamish::process as bp;

    assert!(same::<beamish::Node, bp::Node>());
    assert!(same::<beamish::Exit, bp::Exit>());
    assert!(same::<beamish::Pid, bp::Pid>());

    assert!(same::<p::Node, bp::Node>());
    assert!(same::<p::NodeConfig, bp::NodeConfig>());
    assert!(same::<p::Ctx<u8>, bp::Ctx<u8>>());
    assert!(same::<p::Addr<u8>, bp::Addr<u8>>());
    assert!(same::<p::Pid, bp::Pid>());
    assert!(same::<p::Ref, bp::Ref>());
    assert!(same::<p::Exit, bp::Exit>());
    assert!(same::<p::Term, bp::Term>());
    assert!(same::<p::Message<u8>, bp::Message<u8>>());
    assert!(same::<p::Reply<u8>, bp::Reply<u8>>());
    assert!(same::<p::ReplyTo<u8>, bp::ReplyTo<u8>>());
    assert!(same::<p::SpawnOpts, bp::SpawnOpts>());
    assert!(same::<p::CallError, bp::CallError>());
    assert!(same::<p::SendError<u8>, bp::SendError<u8>>());
    assert!(same::<p::SpawnError, bp::SpawnError>());
    assert!(same::<p::CastError<u8>, bp::CastError<u8>>());
    assert!(same::<p::LinkError, bp::LinkError>());
    assert!(same::<p::Monitored, bp::Monitored>());
    assert!(same::<p::Executor, bp::Executor>());
    assert!(same::<p::StartError, bp::StartError>());
}

#[test]
fn prelude_supervisor_names_are_the_supervisor_crate_types() {
    use beamish::prelude as p;
    use beamish::supervisor as bs;

    assert!(same::<p::Application, bs::Application>());
    assert!(same::<p::AppExit, bs::AppExit>());
    assert!(same::<p::DynamicSupervisorRef, bs::DynamicSupervisorRef>());
    assert!(same::<p::SupervisorRef, bs::SupervisorRef>());
    assert!(same::<p::SupervisorStartError, bs::SupervisorStartError>());
    assert!(same::<p::StartChildError, bs::StartChildError>());
}

#[test]
fn the_mailbox_module_is_the_mailbox_crate() {
    assert!(same::<beamish::mailbox::Capacity, beamish::process::Capacity>());
}
