//! The supervision tree an Elixir developer writes first for a chat server (issue 13 §2):
//!
//! ```text
//! children = [
//!   {Registry, keys: :unique, name: Chat.Rooms},      rooms.child_spec("registry")
//!   {Phoenix.PubSub, name: Chat.PubSub},              hub.child_spec("pubsub")
//!   Chat.Presence,                                    presence.child_spec("presence")
//!   {DynamicSupervisor, name: Chat.RoomSup},          DynamicSupervisor::new().name(..)
//!   {DynamicSupervisor, name: Chat.ConnSup},            (rooms and connections)
//!   {Chat.Listener, socket}                           ChildSpec::process_once("listener", socket, ..)
//! ]
//! ```
//!
//! Rooms start on demand under the rooms' dynamic supervisor with a via name
//! (`rooms.via_spec`), so a restarted room is found again by its name. A client connects over
//! real TCP, joins a room, sends a line and receives it back from the room's broadcast; then
//! the room is killed, and once its restart is announced the same name reaches the new room,
//! which broadcasts the next line. Run with `cargo run -p beamish --example chat_tree`; CI
//! runs it as a doc test of the facade. It finishes in well under a second.
//!
//! The protocol, one line each way: `JOIN <room> <user>` (answered `JOINED <room>`), then
//! `SAY <text>`; every member of the room gets `<room> <user>: <text>`.

use std::sync::Arc;

use beamish::prelude::*;
use beamish::pubsub::crdt::ReplicaId;
use beamish::pubsub::{Presence, PubSub};
use beamish::registry::{Keys, Registry};
use beamish::supervisor::{AppExit, Application, DynamicSupervisorRef, StartChildError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const ROOM_SUP: &str = "chat.rooms";
const CONN_SUP: &str = "chat.connections";

/// What every part of the server shares: handles made before the tree, each also a child of
/// it (see `Registry::child_spec`).
#[derive(Clone)]
struct Chat {
    node: Node,
    rooms: Registry<String, ()>,
    hub: PubSub<String>,
    presence: Presence<()>,
}

/// A room: a server named by the room's name, broadcasting what is said in it.
struct Room {
    topic: String,
    hub: PubSub<String>,
}

impl GenServer for Room {
    type Call = (String, String); // (user, text); the reply is how many members got it
    type Reply = usize;
    type Cast = ();
    type Info = ();

    async fn handle_call(
        &mut self,
        (user, text): (String, String),
        _: Caller<'_, usize>,
        _: &mut ServerCtx<Self>,
    ) -> Result<Reply<usize>, Exit> {
        let line = format!("{} {user}: {text}", &self.topic["room:".len()..]);
        Ok(Reply::Now(self.hub.broadcast(&self.topic, line)))
    }
}

impl Chat {
    /// The room named `name`, started under the rooms' supervisor if it is not running. A
    /// room started meanwhile by another connection is fine: the via name is taken once.
    async fn ensure_room(&self, name: &str) -> Result<(), Exit> {
        if self.rooms.whereis(name).is_some() {
            return Ok(());
        }
        let sup = DynamicSupervisorRef::<()>::whereis(&self.node, ROOM_SUP)
            .ok_or_else(|| Exit::error("the rooms' supervisor is not running"))?;
        let hub = self.hub.clone();
        let topic = format!("room:{name}");
        let spec = self
            .rooms
            .via_spec("room", name.to_owned(), (), move || Room {
                topic: topic.clone(),
                hub: hub.clone(),
            });
        match sup.start_child(spec).await {
            Ok(_) => Ok(()),
            Err(StartChildError::Failed(_)) if self.rooms.whereis(name).is_some() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// What a connection process receives: lines from its reader, and the rooms' broadcasts.
enum Conn {
    Line(String),
    Closed,
    Broadcast(Arc<String>),
}

impl From<Arc<String>> for Conn {
    fn from(line: Arc<String>) -> Conn {
        Conn::Broadcast(line)
    }
}

/// One client: a process that owns the socket's writing half, and a linked reader process
/// that owns the reading half and forwards lines to it.
async fn connection(mut ctx: Ctx<Conn>, socket: TcpStream, chat: Chat) -> Result<(), Exit> {
    let (read, mut write) = socket.into_split();
    let me = ctx.addr();
    ctx.build().link().spawn(move |_: Ctx<()>| async move {
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if me.send(Conn::Line(line)).is_err() {
                return;
            }
        }
        let _ = me.send(Conn::Closed);
    })?;
    let mut joined: Option<(String, String)> = None; // (room, user)
    while let Message::Msg(m) = ctx.recv().await {
        match m {
            Conn::Line(line) => match line.split_once(' ') {
                Some(("JOIN", rest)) => {
                    let (room, user) = rest.split_once(' ').unwrap_or((rest, "anonymous"));
                    chat.ensure_room(room).await?;
                    let topic = format!("room:{room}");
                    chat.hub.subscribe(&ctx, &topic);
                    chat.presence.track(ctx.pid(), &topic, user, ())?;
                    write
                        .write_all(format!("JOINED {room}\n").as_bytes())
                        .await?;
                    joined = Some((room.to_owned(), user.to_owned()));
                }
                Some(("SAY", text)) => {
                    let Some((room, user)) = &joined else {
                        write.write_all(b"ERROR join a room first\n").await?;
                        continue;
                    };
                    chat.rooms
                        .call::<Room>(room, (user.clone(), text.to_owned()))
                        .await?;
                }
                _ => write.write_all(b"ERROR unknown command\n").await?,
            },
            Conn::Broadcast(line) => write.write_all(format!("{line}\n").as_bytes()).await?,
            Conn::Closed => break,
        }
    }
    Ok(())
}

/// The listener: owns the bound socket it was given (so it is a once child, temporary) and
/// starts a connection process under the connections' supervisor for each client.
async fn listener(_ctx: Ctx<()>, socket: std::net::TcpListener, chat: Chat) -> Result<(), Exit> {
    let socket = TcpListener::from_std(socket)?;
    loop {
        let (stream, _) = socket.accept().await?;
        let conns = DynamicSupervisorRef::<()>::whereis(&chat.node, CONN_SUP)
            .ok_or_else(|| Exit::error("the connections' supervisor is not running"))?;
        let chat = chat.clone();
        let conn = ChildSpec::process_once("connection", stream, move |ctx, stream| {
            connection(ctx, stream, chat)
        });
        conns.start_child(conn).await?;
    }
}

/// Reads the next line the server sends.
async fn next_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
) -> Result<String, Box<dyn std::error::Error>> {
    Ok(lines
        .next_line()
        .await?
        .ok_or("the server closed the connection")?)
}

/// Starts the tree, plays one client's session against it, kills and awaits the room, then
/// stops the tree; any assertion that fails is an error.
#[tokio::main]
pub(crate) async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::start_default()?;
    let chat = Chat {
        node: node.clone(),
        rooms: Registry::start(&node, Keys::Unique)?,
        hub: PubSub::start(&node)?,
        presence: Presence::start(&node, ReplicaId(1))?,
    };
    let socket = std::net::TcpListener::bind("127.0.0.1:0")?;
    socket.set_nonblocking(true)?;
    let address = socket.local_addr()?;

    let listener_chat = chat.clone();
    let tree = Supervisor::new(Strategy::RestForOne)
        .child(chat.rooms.child_spec("registry"))
        .child(chat.hub.child_spec("pubsub"))
        .child(chat.presence.child_spec("presence"))
        .child(
            DynamicSupervisor::new()
                .name(ROOM_SUP)
                .into_child_spec("rooms"),
        )
        .child(
            DynamicSupervisor::new()
                .name(CONN_SUP)
                .into_child_spec("connections"),
        )
        .child(ChildSpec::process_once(
            "listener",
            socket,
            move |ctx, socket| listener(ctx, socket, listener_chat),
        ));
    let app = Application::new(tree).start(&node).await?;
    let children = app.supervisor().which_children().await?;
    let ids: Vec<_> = children.into_iter().rev().filter_map(|c| c.id).collect();
    println!(
        "tree {} started: {ids:?}, listening on {address}",
        app.pid()
    );

    // A client, over real TCP.
    let (read, mut write) = TcpStream::connect(address).await?.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"JOIN lobby ada\n").await?;
    assert_eq!(next_line(&mut lines).await?, "JOINED lobby");
    write.write_all(b"SAY hello\n").await?;
    assert_eq!(next_line(&mut lines).await?, "lobby ada: hello");
    let here = chat.presence.list("room:lobby");
    assert!(here.contains_key("ada"));
    println!("ada is in the lobby and heard herself");

    // Kill the room; its supervisor restarts it and the name reaches the new one.
    let rooms = DynamicSupervisorRef::<()>::whereis(&node, ROOM_SUP).ok_or("no rooms")?;
    let lobby = chat.rooms.whereis("lobby").ok_or("no lobby")?;
    let mut restarts = rooms.restarts().await?;
    node.exit(lobby, Exit::Kill);
    let restarted = restarts.of_pid(lobby).await.ok_or("the rooms stopped")?;
    assert_eq!(chat.rooms.whereis("lobby"), Some(restarted.new));
    println!(
        "lobby {lobby} was killed and restarted as {}",
        restarted.new
    );
    write.write_all(b"SAY still here\n").await?;
    assert_eq!(next_line(&mut lines).await?, "lobby ada: still here");

    // Stop the tree: the listener first, then connections, rooms, presence, pubsub, registry.
    let outcome = app.stop().await;
    assert_eq!(outcome, AppExit::Stopped);
    assert!(
        next_line(&mut lines).await.is_err(),
        "the connection was closed"
    );
    println!("stopped: {outcome:?}");
    Ok(())
}
