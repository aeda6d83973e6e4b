//! The chat server on plain tokio, as a tokio user writes it: an accept loop, a task per
//! connection, and a `tokio::sync::broadcast` channel per room in a shared map. A connection
//! is in one room at a time (a second `JOIN` moves it), which is all the loader asks for; more
//! would take a stream map or a forwarding task per room.
//!
//! Runs as `tokio` (two workers) and `tokio-st` (current-thread runtime).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{ChatSize, ensure_open_files, open_files_for};
use crate::common::Outcome;

/// A line pushed to the room's members, formatted once and shared.
type Push = Arc<String>;

/// The rooms: name to the room's broadcast sender.
type Rooms = Arc<Mutex<HashMap<String, broadcast::Sender<Push>>>>;

/// How many messages a room's channel holds for its slowest member. A member further behind
/// loses messages (`RecvError::Lagged`), which the loader's count sees. Large enough for the
/// bench's bursts (a room's members times the messages each sends).
const ROOM_CAPACITY: usize = 16_384;

/// Serves the chat on the ambient runtime and loads it from another process.
pub(crate) async fn run(size: ChatSize) -> Outcome {
    if let Err(e) = ensure_open_files(open_files_for(size)) {
        return Outcome::new("chat").require(false, || e);
    }
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let rooms: Rooms = Arc::default();
    let clients = size.clients;
    tokio::spawn(async move {
        // Accepts exactly the clients the loader opens, so that the loop ends.
        for _ in 0..clients {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(connection(stream, rooms.clone()));
        }
    });
    super::load(port, size).await
}

/// Waits for the next push of the current room; never, while in none.
async fn next_push(room: &mut Option<broadcast::Receiver<Push>>) -> Result<Push, RecvError> {
    match room {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// One client: commands from the socket, pushes from its room.
async fn connection(stream: TcpStream, rooms: Rooms) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let mut current: Option<(String, broadcast::Sender<Push>)> = None;
    let mut pushes: Option<broadcast::Receiver<Push>> = None;
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Ok(Some(line)) = line else { return };
                match line.split_once(' ') {
                    Some(("JOIN", room)) => {
                        let tx = rooms
                            .lock()
                            .expect("not poisoned")
                            .entry(room.to_owned())
                            .or_insert_with(|| broadcast::channel(ROOM_CAPACITY).0)
                            .clone();
                        pushes = Some(tx.subscribe());
                        current = Some((room.to_owned(), tx));
                        let ack = format!("JOINED {room}\n");
                        if writer.write_all(ack.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    Some(("MSG", rest)) => {
                        if let Some((room, text)) = rest.split_once(' ')
                            && let Some((name, tx)) = &current
                            && name == room
                        {
                            let _ = tx.send(Arc::new(format!("{room}: {text}\n")));
                        }
                    }
                    _ => {}
                }
            }
            push = next_push(&mut pushes) => match push {
                Ok(push) => {
                    if writer.write_all(push.as_bytes()).await.is_err() {
                        return;
                    }
                }
                // Lost messages; the loader counts what arrived.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => pushes = None,
            },
        }
    }
}
