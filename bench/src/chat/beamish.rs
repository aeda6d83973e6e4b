//! The chat server on beamish, as the README leads a user to write it: an acceptor process,
//! one process per connection (reading its socket with `tokio::net` inside the process, and
//! its mailbox, in one `select!`), a `GenServer` per room started on first use by a lobby
//! `GenServer`, the room's fan-out through a `PubSub` topic, and `Presence::track` on join.
//!
//! The same code runs as `beamish` (the default scheduler), `beamish-tokio`
//! (`Executor::Tokio`: the processes are tokio tasks) and `beamish-st` (a current-thread
//! runtime).

use std::collections::HashMap;
use std::sync::Arc;

use beamish_process::{
    Caller, Ctx, Exit, GenServer, Message, Node, Pid, Reply, ServerCtx, ServerRef,
};
use beamish_pubsub::crdt::ReplicaId;
use beamish_pubsub::{Presence, PubSub};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{ChatSize, ensure_open_files, open_files_for};
use crate::common::Outcome;

/// A line pushed to the room's members, formatted once by the room and shared.
type Push = Arc<String>;

/// Serves the chat on `node` and loads it from another process.
pub(crate) async fn run(node: &Node, size: ChatSize) -> Outcome {
    if let Err(e) = ensure_open_files(open_files_for(size)) {
        return Outcome::new("chat").require(false, || e);
    }
    let hub: PubSub<String> = PubSub::start(node).expect("pubsub hub");
    let presence: Presence<()> = Presence::start(node, ReplicaId(1)).expect("presence");
    let lobby = node
        .start(Lobby {
            rooms: HashMap::new(),
            hub: hub.clone(),
            presence,
        })
        .await
        .expect("start the lobby");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let clients = size.clients;
    node.spawn(move |ctx: Ctx<()>| async move {
        // Accepts exactly the clients the loader opens, so that the loop ends.
        for _ in 0..clients {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (lobby, hub) = (lobby.clone(), hub.clone());
            let _ = ctx
                .node()
                .spawn(move |ctx: Ctx<Push>| connection(ctx, stream, lobby, hub));
        }
    })
    .expect("spawn the acceptor");
    super::load(port, size).await
}

/// One client: commands from the socket, pushes from the rooms it joined.
async fn connection(
    mut ctx: Ctx<Push>,
    stream: TcpStream,
    lobby: ServerRef<Lobby>,
    hub: PubSub<String>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let user = ctx.pid().to_string();
    let mut joined: HashMap<String, ServerRef<Room>> = HashMap::new();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { return };
                match line.split_once(' ') {
                    Some(("JOIN", room)) if !joined.contains_key(room) => {
                        let Ok(server) = lobby.call(room.to_owned()).await else { return };
                        hub.subscribe(&ctx, &topic(room));
                        if server.call(Join(ctx.pid(), user.clone())).await.is_err() {
                            return;
                        }
                        joined.insert(room.to_owned(), server);
                        let ack = format!("JOINED {room}\n");
                        if writer.write_all(ack.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    Some(("MSG", rest)) => {
                        if let Some((room, text)) = rest.split_once(' ')
                            && let Some(server) = joined.get(room)
                        {
                            // The room is gone (or its mailbox full): this client
                            // cannot go on as if its message were posted.
                            if server.cast(text.to_owned()).is_err() {
                                return;
                            }
                        }
                    }
                    _ => {}
                }
            }
            msg = ctx.recv() => {
                if let Message::Msg(push) = msg
                    && writer.write_all(push.as_bytes()).await.is_err()
                {
                    return;
                }
            }
        }
    }
}

fn topic(room: &str) -> String {
    format!("room:{room}")
}

/// Starts rooms on first use and hands them out.
struct Lobby {
    rooms: HashMap<String, ServerRef<Room>>,
    hub: PubSub<String>,
    presence: Presence<()>,
}

impl GenServer for Lobby {
    /// A room's name.
    type Call = String;
    type Reply = ServerRef<Room>;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        name: String,
        _: Caller<'_, ServerRef<Room>>,
        ctx: &mut ServerCtx<Self>,
    ) -> Result<Reply<ServerRef<Room>>, Exit> {
        if let Some(room) = self.rooms.get(&name) {
            return Ok(Reply::Now(room.clone()));
        }
        let room = Room {
            topic: topic(&name),
            name: name.clone(),
            hub: self.hub.clone(),
            presence: self.presence.clone(),
        };
        let room = ctx
            .node()
            .start(room)
            .await
            .map_err(|e| Exit::error(e.to_string()))?;
        self.rooms.insert(name, room.clone());
        Ok(Reply::Now(room))
    }
}

/// `Join(pid, user)`: track the user's presence in the room.
struct Join(Pid, String);

/// A room: members join through a call, messages arrive as casts and go out to the room's
/// topic, one shared line per message.
struct Room {
    name: String,
    topic: String,
    hub: PubSub<String>,
    presence: Presence<()>,
}

impl GenServer for Room {
    type Call = Join;
    type Reply = ();
    /// A posted message's text.
    type Cast = String;
    type Info = ();

    async fn handle_call(
        &mut self,
        Join(pid, user): Join,
        _: Caller<'_, ()>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<()>, Exit> {
        // Tracking the same (pid, room, user) twice is refused; the first presence stays.
        let _ = self.presence.track(pid, &self.topic, &user, ());
        Ok(Reply::Now(()))
    }

    async fn handle_cast(&mut self, text: String, _: &mut ServerCtx<Self>) -> Result<(), Exit> {
        self.hub
            .broadcast(&self.topic, format!("{}: {text}\n", self.name));
        Ok(())
    }
}
