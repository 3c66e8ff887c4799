//! Messages on a peer stream: frames of `[length: u32 LE][postcard bytes]`.
//!
//! Every protocol (one per ALPN, see [`super::alpn`]) exchanges postcard-encoded messages
//! (<https://postcard.jamesmunns.com/wire-format>) in these frames. A reader states the
//! largest frame it takes: a longer announced length is refused before anything is
//! allocated, and bytes that do not decode as the expected message are refused naming what
//! was wrong. Either refusal ends that stream only; the connection and its other streams go
//! on.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The stream failed.
    #[error("the connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// The peer announced a frame longer than allowed.
    #[error("the peer sent a message of {len} bytes where at most {max} are accepted")]
    TooLarge {
        /// Announced length in bytes.
        len: u32,
        /// The limit in bytes.
        max: u32,
    },
    /// The stream ended inside a frame.
    #[error("the peer closed the stream in the middle of a message")]
    Truncated,
    /// The stream ended where a message was required.
    #[error("the peer closed the stream without answering")]
    Closed,
    /// The bytes are not the message expected.
    #[error("the peer sent a malformed {what}: {reason}")]
    Malformed {
        /// The message expected (its type's name).
        what: &'static str,
        /// What postcard said.
        reason: String,
    },
}

/// Encodes `msg` as one frame.
///
/// # Panics
/// Never for Cairn's messages (postcard cannot fail on them; each is far under 4 GiB).
pub fn frame<T: Serialize>(msg: &T) -> Vec<u8> {
    let body = postcard::to_stdvec(msg).expect("messages serialise");
    let len = u32::try_from(body.len()).expect("a message under 4 GiB");
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decodes one message body (a frame without its length).
///
/// # Errors
/// [`WireError::Malformed`] naming the type, for bytes that are not a `T` or that carry
/// bytes after it.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    let malformed = |reason: String| WireError::Malformed {
        what: short_type_name::<T>(),
        reason,
    };
    let (msg, rest) = postcard::take_from_bytes::<T>(body).map_err(|e| malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(malformed(format!("{} bytes after the message", rest.len())));
    }
    Ok(msg)
}

/// Writes `msg` as one frame.
///
/// # Errors
/// [`WireError::Io`].
pub async fn send<T: Serialize>(
    w: &mut (impl AsyncWrite + Unpin),
    msg: &T,
) -> Result<(), WireError> {
    w.write_all(&frame(msg)).await?;
    Ok(())
}

/// Reads one frame of at most `max` bytes and decodes it; `Ok(None)` when the stream ends
/// cleanly before a frame begins.
///
/// # Errors
/// [`WireError::TooLarge`] (nothing read past the length), [`WireError::Truncated`],
/// [`WireError::Malformed`], [`WireError::Io`].
pub async fn recv_opt<T: DeserializeOwned>(
    r: &mut (impl AsyncRead + Unpin),
    max: u32,
) -> Result<Option<T>, WireError> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut head[got..]).await?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(WireError::Truncated)
            };
        }
        got += n;
    }
    let len = u32::from_le_bytes(head);
    if len > max {
        return Err(WireError::TooLarge { len, max });
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            WireError::Truncated
        } else {
            WireError::Io(e)
        }
    })?;
    decode(&body).map(Some)
}

/// Reads one message that must be there.
///
/// # Errors
/// As [`recv_opt`], plus [`WireError::Closed`] when the stream ends first.
pub async fn recv<T: DeserializeOwned>(
    r: &mut (impl AsyncRead + Unpin),
    max: u32,
) -> Result<T, WireError> {
    recv_opt(r, max).await?.ok_or(WireError::Closed)
}

/// Reads a raw frame's length (at most `max`); its bytes follow, for the caller to read
/// (a receiver that takes them as the connection holds them, without a copy).
///
/// # Errors
/// [`WireError::TooLarge`], [`WireError::Closed`], [`WireError::Io`].
pub async fn recv_raw_len(r: &mut (impl AsyncRead + Unpin), max: u32) -> Result<u32, WireError> {
    let mut head = [0u8; 4];
    r.read_exact(&mut head).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            WireError::Closed
        } else {
            WireError::Io(e)
        }
    })?;
    let len = u32::from_le_bytes(head);
    if len > max {
        return Err(WireError::TooLarge { len, max });
    }
    Ok(len)
}

/// What a protocol's blocking side produces for the stream's writer: a message, or raw
/// bytes (file data) as a raw frame (see [`write_out`]).
#[derive(Debug)]
pub enum Out<M> {
    /// A message, as one frame.
    Msg(M),
    /// Raw bytes, as one raw frame.
    Raw(Vec<u8>),
}

/// Writes what arrives on `rx` to `send`, in order, until `rx` ends: messages as frames,
/// raw bytes (file data, no postcard) as raw frames — a 4-byte little-endian length, then
/// the bytes, handed to the connection as they are (no copy) — as [`recv_raw_len`] reads
/// them.
///
/// # Errors
/// [`WireError::Io`] when the stream fails (the rest is dropped).
pub async fn write_out<M: Serialize>(
    send: &mut iroh::endpoint::SendStream,
    rx: &mut tokio::sync::mpsc::Receiver<Out<M>>,
) -> Result<(), WireError> {
    let io = |e: iroh::endpoint::WriteError| WireError::Io(e.into());
    while let Some(o) = rx.recv().await {
        match o {
            Out::Msg(m) => self::send(send, &m).await?,
            Out::Raw(b) => {
                let len = u32::try_from(b.len()).expect("a raw frame under 4 GiB");
                send.write_all(&len.to_le_bytes()).await.map_err(io)?;
                send.write_chunk(bytes::Bytes::from(b)).await.map_err(io)?;
            }
        }
    }
    Ok(())
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Msg {
        A { n: u32, s: String },
        B(Vec<u8>),
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_and_clean_end() {
        rt().block_on(async {
            let mut bytes = frame(&Msg::A {
                n: 7,
                s: "x".into(),
            });
            bytes.extend(frame(&Msg::B(vec![1, 2, 3])));
            let mut r = bytes.as_slice();
            assert_eq!(
                recv::<Msg>(&mut r, 100).await.unwrap(),
                Msg::A {
                    n: 7,
                    s: "x".into()
                }
            );
            assert_eq!(
                recv::<Msg>(&mut r, 100).await.unwrap(),
                Msg::B(vec![1, 2, 3])
            );
            assert!(recv_opt::<Msg>(&mut r, 100).await.unwrap().is_none());
            assert!(matches!(
                recv::<Msg>(&mut r, 100).await,
                Err(WireError::Closed)
            ));
        });
    }

    #[test]
    fn a_raw_frame_length_over_its_limit_or_cut_short_is_refused() {
        rt().block_on(async {
            let mut r = &[&5u32.to_le_bytes()[..], b"hello"].concat()[..];
            assert_eq!(recv_raw_len(&mut r, 5).await.unwrap(), 5);
            assert_eq!(r, b"hello", "the bytes are left to the caller");
            let e = recv_raw_len(&mut &6u32.to_le_bytes()[..], 5)
                .await
                .unwrap_err();
            assert!(matches!(e, WireError::TooLarge { len: 6, max: 5 }), "{e}");
            let e = recv_raw_len(&mut &[1u8, 0][..], 5).await.unwrap_err();
            assert!(matches!(e, WireError::Closed), "{e}");
        });
    }

    #[test]
    fn oversized_truncated_and_trailing_bytes_are_refused() {
        rt().block_on(async {
            let big = frame(&Msg::B(vec![0; 1000]));
            let e = recv::<Msg>(&mut big.as_slice(), 100).await.unwrap_err();
            assert!(matches!(e, WireError::TooLarge { max: 100, .. }), "{e}");
            let cut = &big[..big.len() - 1];
            let e = recv::<Msg>(&mut &cut[..], 2000).await.unwrap_err();
            assert!(matches!(e, WireError::Truncated), "{e}");
            let e = recv::<Msg>(&mut &big[..2], 2000).await.unwrap_err();
            assert!(matches!(e, WireError::Truncated), "{e}");
            let mut extra = postcard::to_stdvec(&Msg::B(vec![])).unwrap();
            extra.push(9);
            let e = decode::<Msg>(&extra).unwrap_err().to_string();
            assert!(e.contains("Msg") && e.contains("after"), "{e}");
            let e = decode::<Msg>(&[7, 0]).unwrap_err().to_string();
            assert!(e.contains("malformed Msg"), "{e}");
        });
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any bytes at all give a message or an error, never a panic or a huge allocation.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = decode::<Msg>(&bytes);
            rt().block_on(async {
                let mut r = bytes.as_slice();
                while let Ok(Some(_)) = recv_opt::<Msg>(&mut r, 256).await {}
            });
        }
    }
}
