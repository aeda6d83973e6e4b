//! The circuit breaker: R-FUSE-1 (blown on the (MaxR+1)-th melt within MaxT), R-FUSE-2 (ask,
//! heal after the reset delay, reset, not_found), R-FUSE-3 (disable dominates, reinstall,
//! events).

use std::time::Duration;

use beamish_supervisor::{FuseError, FuseEvent, FusePolicy, FuseState, Fuses, RunError};

fn policy(max_melts: u32) -> FusePolicy {
    FusePolicy {
        max_melts,
        window: Duration::from_millis(1000),
        reset: Duration::from_millis(5000),
    }
}

/// R-FUSE-1: MaxR melts inside MaxT are tolerated; the next one blows it; melts MaxT old no
/// longer count; MaxR = 0 blows on the first melt.
#[tokio::test(start_paused = true)]
async fn r_fuse_1_blown_on_the_melt_past_max() {
    let fuses = Fuses::new();
    fuses.install("db", policy(2));
    fuses.melt("db").unwrap();
    fuses.melt("db").unwrap();
    assert_eq!(fuses.ask("db"), Ok(FuseState::Ok));
    // The first two are now exactly MaxT old: no longer counted.
    tokio::time::advance(Duration::from_millis(1000)).await;
    fuses.melt("db").unwrap();
    fuses.melt("db").unwrap();
    assert_eq!(fuses.ask("db"), Ok(FuseState::Ok));
    fuses.melt("db").unwrap();
    assert_eq!(fuses.ask("db"), Ok(FuseState::Blown));

    fuses.install("zero", policy(0));
    assert_eq!(fuses.ask("zero"), Ok(FuseState::Ok));
    fuses.melt("zero").unwrap();
    assert_eq!(fuses.ask("zero"), Ok(FuseState::Blown));
}

/// R-FUSE-2: a blown fuse heals by itself after the reset delay (with an event), `reset`
/// heals it at once, and unknown names are `NotFound`.
#[tokio::test(start_paused = true)]
async fn r_fuse_2_heal_reset_and_not_found() {
    let fuses = Fuses::new();
    let mut events = fuses.subscribe();
    assert_eq!(fuses.ask("nope"), Err(FuseError::NotFound));
    assert_eq!(fuses.melt("nope"), Err(FuseError::NotFound));
    assert_eq!(fuses.reset("nope"), Err(FuseError::NotFound));
    fuses.install("api", policy(0));
    fuses.melt("api").unwrap();
    let blown_at = tokio::time::Instant::now();
    let ev = |state| FuseEvent {
        name: "api".into(),
        state,
    };
    assert_eq!(events.recv().await, Some(ev(FuseState::Blown)));
    // The heal timer fires at ResetMs (paused clock).
    assert_eq!(events.recv().await, Some(ev(FuseState::Ok)));
    assert_eq!(blown_at.elapsed(), Duration::from_millis(5000));
    assert_eq!(fuses.ask("api"), Ok(FuseState::Ok));

    fuses.melt("api").unwrap();
    assert_eq!(fuses.ask("api"), Ok(FuseState::Blown));
    fuses.reset("api").unwrap();
    assert_eq!(fuses.ask("api"), Ok(FuseState::Ok));
    assert_eq!(events.recv().await, Some(ev(FuseState::Blown)));
    assert_eq!(events.recv().await, Some(ev(FuseState::Ok)));
    // The old heal timer, made stale by the reset, changes nothing.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(events.try_recv(), None);

    fuses.remove("api").unwrap();
    assert_eq!(fuses.ask("api"), Err(FuseError::NotFound));
}

/// R-FUSE-3: a disabled circuit is blown until enabled, whatever its melts; reinstalling
/// resets melts and options but keeps it disabled.
#[tokio::test(start_paused = true)]
async fn r_fuse_3_disable_dominates_until_enabled() {
    let fuses = Fuses::new();
    fuses.install("s", policy(5));
    fuses.circuit_disable("s").unwrap();
    assert_eq!(fuses.ask("s"), Ok(FuseState::Blown));
    fuses.reset("s").unwrap();
    assert_eq!(fuses.ask("s"), Ok(FuseState::Blown));
    fuses.install("s", policy(0));
    assert_eq!(
        fuses.ask("s"),
        Ok(FuseState::Blown),
        "reinstall keeps it disabled"
    );
    fuses.circuit_enable("s").unwrap();
    assert_eq!(fuses.ask("s"), Ok(FuseState::Ok));
    // The new options hold: MaxR = 0.
    fuses.melt("s").unwrap();
    assert_eq!(fuses.ask("s"), Ok(FuseState::Blown));
}

/// `run` asks and melts in one step.
#[tokio::test(start_paused = true)]
async fn run_asks_then_melts_on_failure() {
    let fuses = Fuses::new();
    fuses.install("f", policy(0));
    let ok = fuses.run("f", || async { Ok::<_, &str>(1) }).await.unwrap();
    assert_eq!(ok, Ok(1));
    let failed = fuses
        .run("f", || async { Err::<u32, _>("down") })
        .await
        .unwrap();
    assert_eq!(failed, Err(RunError::Failed("down")));
    let blown = fuses.run("f", || async { Ok::<_, &str>(2) }).await.unwrap();
    assert_eq!(blown, Err(RunError::Blown));
}

/// Asking is cheap enough to guard every call: a million asks from two threads at once.
#[test]
fn asking_needs_no_process_and_no_runtime() {
    let fuses = Fuses::new();
    fuses.install("hot", policy(3));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..500_000 {
                    assert_eq!(fuses.ask("hot"), Ok(FuseState::Ok));
                }
            });
        }
    });
}

/// R-FUSE-3: a fault-injection fuse answers `blown` at random at its rate, besides behaving
/// as an ordinary fuse.
#[tokio::test(start_paused = true)]
async fn r_fuse_3_fault_injection_blows_at_its_rate() {
    let fuses = Fuses::new();
    fuses.install_fault_injection("always", 1.0, policy(5));
    fuses.install_fault_injection("never", 0.0, policy(5));
    fuses.install_fault_injection("half", 0.5, policy(5));
    let blown = |name: &str| {
        (0..10_000)
            .filter(|_| fuses.ask(name) == Ok(FuseState::Blown))
            .count()
    };
    assert_eq!(blown("always"), 10_000);
    assert_eq!(blown("never"), 0);
    let half = blown("half");
    assert!(
        (4_000..=6_000).contains(&half),
        "{half} of 10,000 blown at rate 0.5"
    );
    // Melts still blow it as an ordinary fuse.
    fuses.install_fault_injection("melted", 0.0, policy(0));
    fuses.melt("melted").unwrap();
    assert_eq!(fuses.ask("melted"), Ok(FuseState::Blown));
}

/// R-FUSE-3: an alarm is raised while a fuse is blown and cleared after three consecutive
/// `ok` answers once it has healed.
#[tokio::test(start_paused = true)]
async fn r_fuse_3_alarm_raised_when_blown_cleared_after_three_oks() {
    use beamish_supervisor::AlarmEvent;
    let fuses = Fuses::new();
    let mut alarms = fuses.subscribe_alarms();
    fuses.install("db", policy(0));
    assert!(fuses.alarms().is_empty());
    fuses.melt("db").unwrap();
    let ev = |raised| AlarmEvent {
        name: "db".into(),
        raised,
    };
    assert_eq!(alarms.recv().await, Some(ev(true)));
    assert_eq!(fuses.alarms(), vec![std::sync::Arc::<str>::from("db")]);
    fuses.reset("db").unwrap();
    // Healed, but the alarm stays until three oks in a row.
    assert_eq!(fuses.ask("db"), Ok(FuseState::Ok));
    assert_eq!(fuses.ask("db"), Ok(FuseState::Ok));
    assert_eq!(alarms.try_recv(), None);
    assert_eq!(fuses.alarms().len(), 1);
    assert_eq!(fuses.ask("db"), Ok(FuseState::Ok));
    assert_eq!(alarms.recv().await, Some(ev(false)));
    assert!(fuses.alarms().is_empty());
}
