//! `Task.async_stream`: a function mapped over a stream of inputs, one process per element,
//! with bounded concurrency and a timeout per element.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, FuturesUnordered, Stream, StreamExt};

use super::{DEFAULT_TASK_TIMEOUT, Owner, Task, TaskError, spawn_task};
use crate::node::Node;

/// What an [`AsyncStream`] does when an element runs past its timeout (Elixir's
/// `:on_timeout`, R-TASK-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnTimeout {
    /// Elixir's `:exit` (the default): the caller exits. Rendered in Rust as: the stream kills
    /// every running task, yields one `Err(TaskError::Timeout)` at once (results buffered for
    /// ordering are dropped, as they would be with the caller) and ends. The caller decides
    /// whether that ends it too (for example `?` into an [`Exit`](crate::Exit)).
    #[default]
    Exit,
    /// Elixir's `:kill_task`: the late task is killed, the stream yields
    /// `Err(TaskError::Timeout)` in its place and carries on.
    KillTask,
}

/// What an [`AsyncStream`]'s error items carry besides the [`TaskError`]: nothing
/// ([`NoInput`], the default), or the element's input ([`ZipInput`], see
/// [`AsyncStream::zip_input_on_exit`]).
pub trait KeepInput<I>: Send + 'static + sealed::Sealed {
    /// The error type of the stream's items.
    type Error;
    #[doc(hidden)]
    fn keep(input: &I) -> Self;
    #[doc(hidden)]
    fn error(self, error: TaskError) -> Self::Error;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoInput {}
    impl<I> Sealed for super::ZipInput<I> {}
}

/// Error items are plain [`TaskError`]s (the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoInput;

impl<I> KeepInput<I> for NoInput {
    type Error = TaskError;
    fn keep(_: &I) -> Self {
        NoInput
    }
    fn error(self, error: TaskError) -> TaskError {
        error
    }
}

/// Error items are `(input, TaskError)` (Elixir's `zip_input_on_exit: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipInput<I>(I);

impl<I: Clone + Send + 'static> KeepInput<I> for ZipInput<I> {
    type Error = (I, TaskError);
    fn keep(input: &I) -> Self {
        ZipInput(input.clone())
    }
    fn error(self, error: TaskError) -> (I, TaskError) {
        (self.0, error)
    }
}

/// Runs `f` on each element of `input`, each in its own process, and streams the results
/// (Elixir's `Task.async_stream/3`). See [`AsyncStream`] for the options and their defaults.
///
/// Nothing runs until the stream is polled. Each item is `Ok(value)`, or an error for that
/// element: [`TaskError::Exit`] if its process crashed (a panic is [`Exit::Panic`]),
/// [`TaskError::Timeout`] if it ran past the timeout.
///
/// # Example
/// ```
/// use beamish_process::{Node, async_stream};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let node = Node::start_default()?;
/// let lengths: Vec<_> = async_stream(&node, ["long string", "longer string"], |s| async move {
///     s.chars().count()
/// })
/// .max_concurrency(2)
/// .collect()
/// .await;
/// assert_eq!(lengths, [Ok(11), Ok(13)]);
///
/// // A panic is contained in its element's process.
/// let results: Vec<_> = async_stream(&node, 0..3, |i| async move {
///     assert_ne!(i, 1, "one is bad");
///     i
/// })
/// .collect()
/// .await;
/// assert!(results[0] == Ok(0) && results[1].is_err() && results[2] == Ok(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// [`Exit::Panic`]: crate::Exit::Panic
pub fn async_stream<I, F, Fut>(
    node: &Node,
    input: I,
    f: F,
) -> AsyncStream<impl Stream<Item = I::Item> + use<I, F, Fut>, F, Fut::Output>
where
    I: IntoIterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    async_stream_from(node, futures::stream::iter(input), f)
}

/// [`async_stream`] over an asynchronous input: elements are taken from `input` only while
/// fewer than `max_concurrency` of them run.
pub fn async_stream_from<S, F, Fut>(node: &Node, input: S, f: F) -> AsyncStream<S, F, Fut::Output>
where
    S: Stream,
    S::Item: Send + 'static,
    F: Fn(S::Item) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    AsyncStream {
        input,
        input_done: false,
        f: Arc::new(f),
        node: node.clone(),
        max_concurrency: default_max_concurrency(node),
        ordered: true,
        timeout: DEFAULT_TASK_TIMEOUT,
        on_timeout: OnTimeout::Exit,
        link: false,
        owner: None,
        next_in: 0,
        next_out: 0,
        running: FuturesUnordered::new(),
        done: BTreeMap::new(),
        ended: false,
    }
}

/// Elixir's default is `System.schedulers_online()`; ours is the number of worker threads of
/// the tokio runtime the node runs on (1 for a current-thread runtime).
fn default_max_concurrency(node: &Node) -> usize {
    node.workers()
}

pin_project_lite::pin_project! {
    /// The stream made by [`async_stream`]: `f` mapped over the input, each element in its own
    /// process. Options are set with the builder methods before the first poll.
    ///
    /// | option | default | Elixir |
    /// |---|---|---|
    /// | [`max_concurrency`](Self::max_concurrency) | the runtime's worker threads | `System.schedulers_online()` (R-TASK-1) |
    /// | [`ordered`](Self::ordered) | `true` | `true` (R-TASK-1) |
    /// | [`timeout`](Self::timeout) | 5 s per element | 5000 ms (R-TASK-2) |
    /// | [`on_timeout`](Self::on_timeout) | [`OnTimeout::Exit`] | `:exit` (R-TASK-2) |
    /// | [`link`](Self::link) | off | always linked (R-TASK-3) |
    /// | [`zip_input_on_exit`](Self::zip_input_on_exit) | off | `false` (R-TASK-2) |
    ///
    /// # Crashes and links (R-TASK-3)
    ///
    /// In Elixir the element tasks are linked to the caller: a crashing element takes the
    /// caller down unless it traps exits, in which case the stream emits `{:exit, reason}`.
    /// Here the default is the typed, contained form: elements are not linked, and a crash
    /// is an `Err(TaskError::Exit(reason))` item; the stream carries on. With
    /// [`link`](Self::link) the elements are linked to the process that polls the stream, and
    /// Elixir's behaviour is back.
    ///
    /// The other half of R-TASK-3 holds either way: dropping the stream kills its running
    /// elements, so a caller that dies (its body, and with it the stream, is dropped) takes
    /// its tasks down.
    #[must_use = "streams do nothing unless polled"]
    pub struct AsyncStream<S, F, R, K = NoInput> {
        #[pin]
        input: S,
        input_done: bool,
        f: Arc<F>,
        node: Node,
        max_concurrency: usize,
        ordered: bool,
        timeout: Duration,
        on_timeout: OnTimeout,
        link: bool,
        // The process the elements are linked to, looked up once.
        owner: Option<Owner>,
        // Index of the next input element.
        next_in: u64,
        // Index of the next result to emit, when ordered.
        next_out: u64,
        running: FuturesUnordered<Element<R, K>>,
        // Finished results not emitted yet, by input index.
        done: BTreeMap<u64, Result<R, (TaskError, K)>>,
        ended: bool,
    }
}

impl<S, F, R, K> fmt::Debug for AsyncStream<S, F, R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStream")
            .field("max_concurrency", &self.max_concurrency)
            .field("ordered", &self.ordered)
            .field("timeout", &self.timeout)
            .field("on_timeout", &self.on_timeout)
            .field("link", &self.link)
            .field("running", &self.running.len())
            .field("buffered", &self.done.len())
            .finish()
    }
}

impl<S, F, R, K> AsyncStream<S, F, R, K> {
    /// At most this many elements run at once (R-TASK-1). The default is the number of worker
    /// threads of the node's tokio runtime, Elixir's `System.schedulers_online()`. Zero counts
    /// as one.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Whether results come in input order (`true`, the default: a result that finishes early
    /// is buffered until those before it are out) or in completion order (R-TASK-1).
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How long each element may run, counted from its spawn (R-TASK-2). Five seconds by
    /// default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What to do with an element that runs past its timeout (R-TASK-2); see [`OnTimeout`].
    pub fn on_timeout(mut self, on_timeout: OnTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }

    /// Links each element's process to the process that polls the stream, as Elixir does
    /// (R-TASK-3): an element that crashes then takes that process down, unless it traps
    /// exits, in which case it gets the `Message::Exit` and the stream yields
    /// `Err(TaskError::Exit(reason))`. An element that finishes, times out under
    /// [`OnTimeout::KillTask`], or is dropped with the stream is unlinked first and never
    /// disturbs the caller. Polled from outside any process, the elements are not linked.
    pub fn link(mut self) -> Self {
        self.link = true;
        self
    }
}

impl<S: Stream, F, R> AsyncStream<S, F, R, NoInput> {
    /// Makes each error item carry the element's input: `Err((input, TaskError))` (Elixir's
    /// `zip_input_on_exit: true`), so that a failure can be told apart even with
    /// [`ordered(false)`](Self::ordered). Set it before the first poll.
    pub fn zip_input_on_exit(self) -> AsyncStream<S, F, R, ZipInput<S::Item>>
    where
        S::Item: Clone + Send + 'static,
    {
        AsyncStream {
            input: self.input,
            input_done: self.input_done,
            f: self.f,
            node: self.node,
            max_concurrency: self.max_concurrency,
            ordered: self.ordered,
            timeout: self.timeout,
            on_timeout: self.on_timeout,
            link: self.link,
            owner: self.owner,
            next_in: self.next_in,
            next_out: self.next_out,
            // Nothing has run yet: the builder is used before the first poll.
            running: FuturesUnordered::new(),
            done: BTreeMap::new(),
            ended: self.ended,
        }
    }
}

impl<S, F, Fut, R, K> AsyncStream<S, F, R, K>
where
    S: Stream,
    S::Item: Send + 'static,
    F: Fn(S::Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
    K: KeepInput<S::Item>,
{
    /// Starts the element `item` (index `next_in`).
    fn start(self: Pin<&mut Self>, item: S::Item) {
        let this = self.project();
        let index = *this.next_in;
        *this.next_in += 1;
        let owner = if *this.link {
            let current = crate::process::current_pid();
            if this.owner.as_ref().map(|o| o.pid) != current {
                *this.owner = Owner::current(this.node);
            }
            this.owner.clone()
        } else {
            None
        };
        let kept = K::keep(&item);
        let f = this.f.clone();
        // `f` is called inside the element's process, so that even a panic in its
        // synchronous part stays there.
        match spawn_task(this.node, owner, move |_| async move { f(item).await }) {
            Ok(task) => this.running.push(Element {
                index,
                task,
                deadline: Box::pin(tokio::time::sleep(*this.timeout)),
                kept: Some(kept),
            }),
            Err(e) => {
                this.done.insert(index, Err((TaskError::Spawn(e), kept)));
            }
        }
    }
}

/// The results as plain async methods, so that an application needs no stream trait in scope
/// (they are [`StreamExt::next`] and [`StreamExt::collect`], which work too).
impl<S, F, Fut, R, K> AsyncStream<S, F, R, K>
where
    S: Stream,
    S::Item: Send + 'static,
    F: Fn(S::Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
    K: KeepInput<S::Item>,
{
    /// The next result, or `None` once every element has been emitted. The stream must be
    /// `Unpin` (it is over the input of [`async_stream`]); pin one over another input first
    /// (`std::pin::pin!`) and use [`StreamExt::next`].
    ///
    /// ```
    /// # use beamish_process::{Node, async_stream};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let node = Node::start_default()?;
    /// let mut squares = async_stream(&node, 1..=3, |n: u64| async move { n * n });
    /// let mut sum = 0;
    /// while let Some(square) = squares.next().await {
    ///     sum += square?;
    /// }
    /// assert_eq!(sum, 14);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn next(&mut self) -> Option<Result<R, K::Error>>
    where
        Self: Unpin,
    {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Every result, in a collection (`Vec`, ...): in input order unless
    /// [`ordered(false)`](Self::ordered).
    pub async fn collect<C: Default + Extend<Result<R, K::Error>>>(self) -> C {
        let mut stream = std::pin::pin!(self);
        let mut all = C::default();
        while let Some(item) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            all.extend(Some(item));
        }
        all
    }
}

impl<S, F, Fut, R, K> Stream for AsyncStream<S, F, R, K>
where
    S: Stream,
    S::Item: Send + 'static,
    F: Fn(S::Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
    K: KeepInput<S::Item>,
{
    type Item = Result<R, K::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        loop {
            // A finished result whose turn has come.
            let this = self.as_mut().project();
            let ready = if *this.ordered {
                let r = this.done.remove(&*this.next_out);
                if r.is_some() {
                    *this.next_out += 1;
                }
                r
            } else {
                this.done.pop_first().map(|(_, r)| r)
            };
            if let Some(r) = ready {
                return Poll::Ready(Some(r.map_err(|(e, kept)| kept.error(e))));
            }

            // Start elements while there is room (R-TASK-1).
            let mut start_failed = false;
            while !self.input_done && self.running.len() < self.max_concurrency {
                match self.as_mut().project().input.poll_next(cx) {
                    Poll::Ready(Some(item)) => {
                        let before = self.done.len();
                        self.as_mut().start(item);
                        start_failed |= self.done.len() > before;
                    }
                    Poll::Ready(None) => *self.as_mut().project().input_done = true,
                    Poll::Pending => break,
                }
            }
            if start_failed {
                continue;
            }

            let this = self.as_mut().project();
            match this.running.poll_next_unpin(cx) {
                Poll::Ready(Some((index, result, kept))) => match result {
                    Err(TaskError::Timeout) if *this.on_timeout == OnTimeout::Exit => {
                        // The caller "exits": every running element is killed (dropped).
                        this.running.clear();
                        this.done.clear();
                        *this.ended = true;
                        return Poll::Ready(Some(Err(kept.error(TaskError::Timeout))));
                    }
                    result => {
                        this.done.insert(index, result.map_err(|e| (e, kept)));
                    }
                },
                Poll::Ready(None) if *this.input_done => {
                    if this.done.is_empty() {
                        *this.ended = true;
                        return Poll::Ready(None);
                    }
                    // Everything left is buffered; the loop emits it.
                }
                // Nothing runs and the input is pending (its waker is registered).
                Poll::Ready(None) => return Poll::Pending,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<S, F, Fut, R, K> FusedStream for AsyncStream<S, F, R, K>
where
    S: Stream,
    S::Item: Send + 'static,
    F: Fn(S::Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
    K: KeepInput<S::Item>,
{
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

/// One running element: its task, its deadline, and what it keeps of its input. Dropped
/// unfinished, it kills the task.
struct Element<R, K> {
    index: u64,
    task: Task<R>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Taken when the element finishes.
    kept: Option<K>,
}

// Nothing in an element is pinned structurally (the deadline is boxed, `kept` is only ever
// moved out), so it may move whatever `K` is.
impl<R, K> Unpin for Element<R, K> {}

impl<R: Send + 'static, K> Future for Element<R, K> {
    type Output = (u64, Result<R, TaskError>, K);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let outcome = match this.task.poll_outcome(cx) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // Elixir's `:kill_task` kills brutally; under `:exit` the caller's exit takes
                // the task down. Either way it is killed.
                this.task.kill();
                Err(TaskError::Timeout)
            }
        };
        let kept = this.kept.take().expect("an element finishes once");
        Poll::Ready((this.index, outcome, kept))
    }
}

impl<R, K> Drop for Element<R, K> {
    fn drop(&mut self) {
        if self.kept.is_some() {
            self.task.kill();
        }
    }
}
