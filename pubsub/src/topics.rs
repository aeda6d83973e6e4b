//! Topics: subscribe, unsubscribe, broadcast (R-PS-1..3).

use std::fmt;
use std::sync::Arc;

use beamish_process::{Ctx, Node, Pid, SpawnError};
use beamish_registry::{Entry, Keys, Registry};
use beamish_telemetry::events::pubsub::{BROADCAST, SUBSCRIBED, UNSUBSCRIBED};
use beamish_telemetry::{EventName, Value};

/// Delivers one shared message to one subscriber; `false` if it was not delivered.
type Deliver<T> = Arc<dyn Fn(&Arc<T>) -> bool + Send + Sync>;

/// How one subscription delivers a message to its process: the subscriber's typed address,
/// with the conversion from the shared message into its message type.
pub struct Subscription<T> {
    deliver: Deliver<T>,
}

impl<T> Clone for Subscription<T> {
    fn clone(&self) -> Self {
        Subscription {
            deliver: self.deliver.clone(),
        }
    }
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subscription(..)")
    }
}

impl<T> Subscription<T> {
    /// Delivers the shared message to the subscriber (a clone of the `Arc`, no copy of the
    /// message). Returns `false` if it was not delivered (the subscriber has ended, or its
    /// bounded mailbox is full); that is not an error (R-PS-2).
    pub fn send(&self, message: &Arc<T>) -> bool {
        (self.deliver)(message)
    }
}

/// A local publish/subscribe hub, as Phoenix.PubSub on one node (R-PS-1..3).
///
/// Subscribers are processes registered in a duplicate [`Registry`] under the topic, so a
/// process that subscribes twice gets every message twice, and its subscriptions go when it
/// ends. A broadcast wraps the message in one `Arc` and delivers a clone of that `Arc` to each
/// subscriber, from the publishing process, with no registry lock held while sending (the
/// registry copies each partition's subscriber list out first). So the messages of one
/// publisher reach each subscriber in the order they were published (R-PS-3).
///
/// A subscriber's message type `M` takes the shared message through `From<Arc<T>>`, so a
/// process can subscribe to several hubs with one message enum.
///
/// Cheap to clone: every clone is the same hub.
pub struct PubSub<T> {
    topics: Registry<String, Subscription<T>>,
}

impl<T> Clone for PubSub<T> {
    fn clone(&self) -> Self {
        PubSub {
            topics: self.topics.clone(),
        }
    }
}

impl<T> fmt::Debug for PubSub<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSub").finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> PubSub<T> {
    /// Starts a hub on `node`, with one registry partition per worker thread.
    pub fn start(node: &Node) -> Result<PubSub<T>, SpawnError> {
        Ok(PubSub {
            topics: Registry::start(node, Keys::Duplicate)?,
        })
    }

    /// Starts a hub with `n` registry partitions (subscriptions are partitioned by pid, so
    /// subscribers on different partitions never contend).
    pub fn with_partitions(node: &Node, n: usize) -> Result<PubSub<T>, SpawnError> {
        Ok(PubSub {
            topics: Registry::builder(Keys::Duplicate)
                .partitions(n)
                .start(node)?,
        })
    }

    /// Subscribes the calling process to `topic` (R-PS-1). Subscribing twice means two
    /// deliveries of every message.
    pub fn subscribe<M>(&self, ctx: &Ctx<M>, topic: &str)
    where
        M: From<Arc<T>> + Send + 'static,
    {
        let addr = ctx.addr();
        let sub = Subscription {
            deliver: Arc::new(move |m: &Arc<T>| addr.send(M::from(m.clone())).is_ok()),
        };
        // A duplicate registry never refuses a registration.
        let _ = self.topics.register(ctx, topic.to_owned(), sub);
        self.subscription_changed(&SUBSCRIBED, topic, ctx.pid());
    }

    /// Removes every subscription of the calling process to `topic` (R-PS-1).
    pub fn unsubscribe<M: Send + 'static>(&self, ctx: &Ctx<M>, topic: &str) {
        self.topics.unregister(ctx, &topic.to_owned());
        self.subscription_changed(&UNSUBSCRIBED, topic, ctx.pid());
    }

    /// Emits `subscribed` or `unsubscribed`; counting the topic's subscriptions visits every
    /// partition, so only when some handler listens.
    fn subscription_changed(&self, event: &EventName, topic: &str, pid: Pid) {
        let telemetry = self.topics.node().telemetry();
        if telemetry.enabled(event) {
            telemetry.emit(
                event,
                &[("subscribers", self.topics.count_key(topic).into())],
                &[("topic", Value::Str(topic)), ("pid", pid.into())],
            );
        }
    }

    /// Delivers `message` to every subscriber of `topic`, the caller included if it is one
    /// (R-PS-2). Subscribers that have ended get nothing, and that is not an error. Returns
    /// how many deliveries were made.
    pub fn broadcast(&self, topic: &str, message: impl Into<Arc<T>>) -> usize {
        self.deliver(topic, message.into(), None)
    }

    /// Delivers `message` to every subscriber of `topic` but `from` (R-PS-2).
    pub fn broadcast_from(&self, from: Pid, topic: &str, message: impl Into<Arc<T>>) -> usize {
        self.deliver(topic, message.into(), Some(from))
    }

    /// [`broadcast`](Self::broadcast) to this node's subscribers only. On one node, the same;
    /// with distribution, `broadcast` will also reach other nodes and this will not.
    pub fn local_broadcast(&self, topic: &str, message: impl Into<Arc<T>>) -> usize {
        self.deliver(topic, message.into(), None)
    }

    /// [`broadcast_from`](Self::broadcast_from) to this node's subscribers only.
    pub fn local_broadcast_from(
        &self,
        from: Pid,
        topic: &str,
        message: impl Into<Arc<T>>,
    ) -> usize {
        self.deliver(topic, message.into(), Some(from))
    }

    /// Broadcasts with a custom dispatcher (Phoenix's `dispatcher` argument): `dispatch` runs
    /// in the caller with each batch of subscriptions (an [`Entry`] holds the subscriber's pid
    /// and its [`Subscription`]) and the shared message, once per registry partition holding
    /// subscribers, and decides whom to deliver to. No lock is held while it runs.
    pub fn broadcast_with(
        &self,
        topic: &str,
        message: impl Into<Arc<T>>,
        mut dispatch: impl FnMut(&[Entry<Subscription<T>>], &Arc<T>),
    ) {
        let message = message.into();
        self.topics.dispatch(topic, |subs| dispatch(subs, &message));
    }

    fn deliver(&self, topic: &str, message: Arc<T>, except: Option<Pid>) -> usize {
        let mut delivered = 0;
        self.topics.dispatch(topic, |subs| {
            for sub in subs {
                if Some(sub.pid()) != except && sub.value().send(&message) {
                    delivered += 1;
                }
            }
        });
        let telemetry = self.topics.node().telemetry();
        let recipients = [("recipients", delivered.into())];
        match except {
            None => telemetry.emit(&BROADCAST, &recipients, &[("topic", Value::Str(topic))]),
            Some(from) => telemetry.emit(
                &BROADCAST,
                &recipients,
                &[("topic", Value::Str(topic)), ("from", from.into())],
            ),
        }
        delivered
    }

    /// The subscribers of `topic`, once per subscription.
    pub fn subscribers(&self, topic: &str) -> Vec<Pid> {
        let mut pids = Vec::new();
        self.topics
            .dispatch(topic, |subs| pids.extend(subs.iter().map(Entry::pid)));
        pids
    }

    /// The number of subscriptions to `topic`.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.topics.count_key(topic)
    }

    /// The hub's own processes: its registry's watchers, which drop ended subscribers.
    pub fn processes(&self) -> Vec<Pid> {
        self.topics.processes()
    }

    /// Waits until the subscriptions of every subscriber that had ended when this was called
    /// are removed (see [`Registry::sync`]).
    pub async fn sync(&self) {
        self.topics.sync().await;
    }
}
