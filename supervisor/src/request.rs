//! The messages a supervisor takes, and the handle that sends them.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use beamish_process::{Addr, CallError, Exit, Node, Pid};
use tokio::sync::{mpsc, oneshot};

use crate::error::{
    DeleteChildError, RestartChildError, StartChildError, SupervisorStartError, TerminateChildError,
};
use crate::info::{ChildCounts, Describe, SupervisionTree, TreeChild};
use crate::restarts::{Restarted, Restarts};
use crate::types::{ChildKind, Started};

/// Which child an operation names.
#[derive(Debug, Clone)]
pub(crate) enum ChildRef {
    Id(Arc<str>),
    Pid(Pid),
}

/// A supervisor's data lane (static and dynamic supervisors take the same type, so that
/// introspection can walk a tree without knowing which is which).
pub(crate) enum Request {
    Describe(oneshot::Sender<Describe>),
    Count(oneshot::Sender<ChildCounts>),
    Terminate(ChildRef, oneshot::Sender<Result<(), TerminateChildError>>),
    Restart(
        Arc<str>,
        oneshot::Sender<Result<Started, RestartChildError>>,
    ),
    Delete(Arc<str>, oneshot::Sender<Result<(), DeleteChildError>>),
    /// A boxed `ChildSpec<A>` of the supervisor's own `A`.
    Start(
        Box<dyn Any + Send + Sync>,
        oneshot::Sender<Result<Started, StartChildError>>,
    ),
    Stop(Exit),
    /// Add a restart subscriber; answered once it is in place.
    Subscribe(mpsc::UnboundedSender<Restarted>, oneshot::Sender<()>),
    /// Retry a failed restart of the child with this key (R-SUP-RETRY).
    TryAgain(u64),
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Request::Describe(_) => "Describe",
            Request::Count(_) => "Count",
            Request::Terminate(..) => "Terminate",
            Request::Restart(..) => "Restart",
            Request::Delete(..) => "Delete",
            Request::Start(..) => "Start",
            Request::Stop(_) => "Stop",
            Request::Subscribe(..) => "Subscribe",
            Request::TryAgain(_) => "TryAgain",
        })
    }
}

/// A handle to a supervisor process of either flavour.
#[derive(Clone)]
pub(crate) struct Handle {
    pub(crate) addr: Addr<Request>,
    pub(crate) node: Node,
}

impl Handle {
    /// A handle to the supervisor running as `pid`, if a process with a supervisor's
    /// message type runs there.
    pub(crate) fn at(node: &Node, pid: Pid) -> Option<Handle> {
        let addr = node.addr::<Request>(pid)?;
        Some(Handle {
            addr,
            node: node.clone(),
        })
    }

    /// Waits for a starting supervisor's answer: its handle once it runs, or why it did not
    /// start.
    pub(crate) async fn started(
        node: &Node,
        addr: Addr<Request>,
        rx: oneshot::Receiver<Result<(), SupervisorStartError>>,
    ) -> Result<Handle, SupervisorStartError> {
        let handle = Handle {
            addr,
            node: node.clone(),
        };
        match rx.await {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(e)) => {
                // The supervisor exits right after answering; wait for it so that the caller
                // sees a world where it is gone.
                node.monitor(handle.pid()).await;
                Err(e)
            }
            Err(_) => Err(SupervisorStartError::Exit(node.monitor(handle.pid()).await)),
        }
    }

    pub(crate) fn pid(&self) -> Pid {
        self.addr.pid()
    }

    /// Sends a request and waits, as long as it takes (OTP's supervisor calls use
    /// `infinity`), for the answer or the supervisor's end.
    pub(crate) async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, CallError> {
        let (tx, rx) = oneshot::channel();
        if self.addr.send(make(tx)).is_err() {
            return Err(CallError::NoProc);
        }
        match rx.await {
            Ok(v) => Ok(v),
            // The request was dropped: the supervisor is ending or has ended.
            Err(_) => match self.node.monitor(self.pid()).await {
                Exit::NoProc => Err(CallError::NoProc),
                r => Err(CallError::Exit(r)),
            },
        }
    }

    pub(crate) async fn restarts(&self) -> Result<Restarts, CallError> {
        let (tx, restarts) = Restarts::channel();
        self.call(|ack| Request::Subscribe(tx, ack)).await?;
        Ok(restarts)
    }

    pub(crate) async fn stop(&self, reason: Exit) -> Result<(), CallError> {
        let down = self.node.monitor(self.pid());
        if self.addr.send(Request::Stop(reason.clone())).is_err() {
            return Err(CallError::NoProc);
        }
        match down.await {
            r if r == reason => Ok(()),
            Exit::NoProc => Err(CallError::NoProc),
            r => Err(CallError::Exit(r)),
        }
    }

    pub(crate) fn tree(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<SupervisionTree, CallError>> + Send + '_>> {
        Box::pin(async move {
            let d = self.call(Request::Describe).await?;
            let mut children = Vec::with_capacity(d.children.len());
            for child in d.children {
                let mut tree = None;
                if let (ChildKind::Supervisor, Some(pid)) = (child.kind, child.status.pid()) {
                    if let Some(sub) = Handle::at(&self.node, pid) {
                        tree = sub.tree().await.ok();
                    }
                }
                children.push(TreeChild { child, tree });
            }
            Ok(SupervisionTree {
                pid: self.pid(),
                flavor: d.flavor,
                intensity: d.intensity,
                period: d.period,
                children,
            })
        })
    }
}
