//! R-TASK-2: with `zip_input_on_exit`, a failed element's item carries its input:
//! `{:exit, {elem, :timeout}}` in Elixir, `Err((input, TaskError::Timeout))` here (and the
//! same for a crash).

use std::time::Duration;

use beamish_process::{Exit, Node, OnTimeout, TaskError, async_stream};

/// R-TASK-2: in completion order, each failure still names the input it came from.
#[tokio::test(start_paused = true)]
async fn r_task_2_zip_input_on_exit_pairs_failures_with_their_input() {
    let node = Node::start_default().unwrap();
    let results: Vec<_> = async_stream(&node, [10u64, 3_000, 13, 20], |ms| async move {
        if ms == 13 {
            panic!("unlucky");
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    })
    .max_concurrency(4)
    .ordered(false)
    .timeout(Duration::from_secs(1))
    .on_timeout(OnTimeout::KillTask)
    .zip_input_on_exit()
    .collect()
    .await;
    assert_eq!(
        results,
        [
            Err((13, TaskError::Exit(Exit::Panic("unlucky".into())))),
            Ok(10),
            Ok(20),
            Err((3_000, TaskError::Timeout)),
        ]
    );
}
