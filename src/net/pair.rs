//! Pairing (`cairn/pair/1`): two devices prove to each other that their users typed the same
//! short code, and bind each other's device keys.
//!
//! Device A (the host) shows a [`PairingCode`] of 12 digits; the user types it on device B
//! (the joiner), which connects to A. The code never crosses the wire: both sides run SPAKE2
//! (RFC 9382, the `spake2` crate, Ed25519 group) with the code as the password and the two
//! endpoint ids (the device public keys, authenticated by the QUIC/TLS handshake) as the
//! identities, then confirm the key: each sends a BLAKE3 keyed hash (a MAC) under the shared
//! key of the whole transcript (both ids, both device cards, both SPAKE2 messages) with its
//! role. A wrong code gives the two sides different keys, so the confirmation fails and
//! nothing is stored; a man in the middle who does not know the code learns nothing it could
//! test offline, and has one guess per attempt.
//!
//! The host's session is single use, lasts [`CODE_TTL`], and ends after [`MAX_ATTEMPTS`]
//! failed attempts (the user then starts again with a new code). The first 4 digits are the
//! session's *slot*, which tells the joiner it reached the right session (and lets a
//! stale code be told apart from a wrong one); all 12 digits are the password.
//!
//! ```text
//! B → A  Hello   { slot, spake_B, card_B }
//! A → B  Reply   { spake_A, card_A, mac(K, "host" ‖ transcript) }
//! B → A  Confirm { mac(K, "joiner" ‖ transcript) }          (or Refused: wrong code)
//! A → B  Done                                              (or Refused)
//! ```
//! A stores B before it sends `Done`; B stores A when `Done` arrives. The same ALPN carries
//! `Unpair` from a paired device: the receiver forgets the sender (it is identified by its
//! key, never by what it says).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use spake2::{Ed25519Group, Identity, Password, Spake2};
use tokio::io::{AsyncRead, AsyncWrite};
use uuid::Uuid;

use super::wire::{self, WireError};

/// How long a code can be used.
pub const CODE_TTL: Duration = Duration::from_secs(5 * 60);
/// Failed attempts after which the host's session ends.
pub const MAX_ATTEMPTS: u32 = 3;
/// The largest pairing message accepted, in bytes.
pub const MAX_MSG: u32 = 4096;
/// How long each side waits for the other's next message.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// Digits in a code.
const DIGITS: usize = 12;

/// A pairing code: 12 decimal digits, shown and typed as `1234-5678-9012` (spaces, dashes or
/// nothing between the groups are all accepted). About 40 bits, of which an attacker can test
/// one guess per attempt and [`MAX_ATTEMPTS`] per code.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode {
    digits: [u8; DIGITS],
}

impl std::fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PairingCode({:04}-…)", self.slot())
    }
}

impl std::fmt::Display for PairingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, d) in self.digits.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                f.write_str("-")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Why a typed code is not a code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("“{0}” is not a pairing code: it has 12 digits, as 1234-5678-9012")]
pub struct BadCode(pub String);

impl PairingCode {
    /// A new random code (from the OS's random source).
    ///
    /// # Panics
    /// If the OS has no random source (`getrandom` fails), which Cairn cannot work without.
    pub fn generate() -> PairingCode {
        let mut digits = [0u8; DIGITS];
        for d in &mut digits {
            // Rejection sampling: 250 = 25 × 10, so every digit is equally likely.
            *d = loop {
                let mut b = [0u8; 1];
                getrandom::fill(&mut b).expect("the OS random source");
                if b[0] < 250 {
                    break b[0] % 10;
                }
            };
        }
        PairingCode { digits }
    }

    /// Parses what the user typed.
    ///
    /// # Errors
    /// [`BadCode`] quoting the text when it is not 12 digits (separated or not by spaces or
    /// dashes).
    pub fn parse(text: &str) -> Result<PairingCode, BadCode> {
        let mut digits = Vec::with_capacity(DIGITS);
        for c in text.trim().chars() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                '-' | ' ' => {}
                _ => return Err(BadCode(text.to_owned())),
            }
        }
        let digits: [u8; DIGITS] = digits.try_into().map_err(|_| BadCode(text.to_owned()))?;
        Ok(PairingCode { digits })
    }

    /// The session's slot: the first 4 digits as a number.
    pub fn slot(&self) -> u16 {
        self.digits[..4]
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(*d))
    }

    fn password(&self) -> Password {
        Password::new(self.to_string().as_bytes())
    }
}

/// What a device says about itself when pairing: checked, never trusted for identity (the
/// key comes from the connection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// Device UUID.
    pub id: Uuid,
    /// Device name.
    pub name: String,
    /// Where its endpoint listens (at most 8).
    pub addrs: Vec<SocketAddr>,
}

impl Card {
    /// Refuses a card with an empty or over-long name, control characters, or too many
    /// addresses.
    fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 128 {
            return Err("a device name must be 1 to 128 bytes".into());
        }
        if self.name.chars().any(char::is_control) {
            return Err("a device name cannot hold control characters".into());
        }
        if self.addrs.len() > 8 {
            return Err("more than 8 addresses".into());
        }
        Ok(())
    }
}

/// The messages of `cairn/pair/1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairMsg {
    /// Joiner → host: the first SPAKE2 message.
    Hello {
        /// The code's slot.
        slot: u16,
        /// SPAKE2 message (side A).
        spake: Vec<u8>,
        /// The joiner's card.
        card: Card,
    },
    /// Host → joiner: the second SPAKE2 message and the host's key confirmation.
    Reply {
        /// SPAKE2 message (side B).
        spake: Vec<u8>,
        /// The host's card.
        card: Card,
        /// `mac(K, "host" ‖ transcript)`.
        confirm: [u8; 32],
    },
    /// Joiner → host: the joiner's key confirmation.
    Confirm {
        /// `mac(K, "joiner" ‖ transcript)`.
        confirm: [u8; 32],
    },
    /// Host → joiner: the pairing is stored.
    Done,
    /// Either way: no, and why (for the user).
    Refused {
        /// Why, in words.
        reason: String,
    },
    /// A paired device asks to be forgotten.
    Unpair,
    /// The answer to [`PairMsg::Unpair`].
    Unpaired,
}

/// How a pairing attempt ended, when it did not pair.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// The codes differ (on either side).
    #[error("the code does not match the one shown on the other device; check it and try again")]
    WrongCode,
    /// The other side said no.
    #[error("the other device refused: {0}")]
    Refused(String),
    /// The other side broke the protocol or the connection failed.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The other side took too long.
    #[error("the other device did not answer within {} s", STEP_TIMEOUT.as_secs())]
    Timeout,
    /// The other side's card or message is not acceptable.
    #[error("the other device sent something unacceptable: {0}")]
    Invalid(String),
}

/// The host's open session (one at a time per device).
#[derive(Debug)]
pub struct HostSession {
    /// The code shown.
    pub code: PairingCode,
    /// When it stops working.
    pub expires: Instant,
    /// Failed attempts so far.
    pub failures: u32,
}

impl HostSession {
    /// A new session with a fresh code.
    pub fn new() -> HostSession {
        HostSession {
            code: PairingCode::generate(),
            expires: Instant::now() + CODE_TTL,
            failures: 0,
        }
    }
}

impl Default for HostSession {
    fn default() -> Self {
        HostSession::new()
    }
}

/// The key-confirmation MAC: BLAKE3 in keyed mode (the key is the SPAKE2 output) over the
/// role and the transcript.
fn mac(key: &[u8; 32], role: &[u8], transcript: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&(role.len() as u64).to_le_bytes());
    h.update(role);
    h.update(transcript);
    *h.finalize().as_bytes()
}

/// Both ids, both cards and both SPAKE2 messages, each length-prefixed.
fn transcript(
    joiner: &[u8; 32],
    host: &[u8; 32],
    joiner_card: &Card,
    host_card: &Card,
    joiner_spake: &[u8],
    host_spake: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(512);
    for part in [
        b"cairn/pair/1".as_slice(),
        joiner,
        host,
        &postcard::to_stdvec(joiner_card).expect("card"),
        &postcard::to_stdvec(host_card).expect("card"),
        joiner_spake,
        host_spake,
    ] {
        t.extend_from_slice(&(part.len() as u64).to_le_bytes());
        t.extend_from_slice(part);
    }
    t
}

fn key32(key: Vec<u8>) -> Result<[u8; 32], PairError> {
    key.try_into()
        .map_err(|_| PairError::Invalid("a key of the wrong size".into()))
}

async fn step<T>(
    f: impl std::future::Future<Output = Result<T, WireError>>,
) -> Result<T, PairError> {
    match tokio::time::timeout(STEP_TIMEOUT, f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(PairError::Timeout),
    }
}

/// The joiner's side, on a stream to the host. `me`/`peer` are the endpoint ids (device
/// public keys) of this device and of the host, as the connection authenticated them.
/// Returns the host's card once the host has stored the pairing.
///
/// # Errors
/// [`PairError`]: a wrong code (on either side), a refusal, a timeout, a protocol error.
pub async fn join(
    send: &mut (impl AsyncWrite + Unpin),
    recv: &mut (impl AsyncRead + Unpin),
    code: &PairingCode,
    me: &[u8; 32],
    peer: &[u8; 32],
    card: &Card,
) -> Result<Card, PairError> {
    let (state, spake_j) =
        Spake2::<Ed25519Group>::start_a(&code.password(), &Identity::new(me), &Identity::new(peer));
    wire::send(
        send,
        &PairMsg::Hello {
            slot: code.slot(),
            spake: spake_j.clone(),
            card: card.clone(),
        },
    )
    .await?;
    let (spake_h, host_card, confirm_h) = match step(wire::recv(recv, MAX_MSG)).await? {
        PairMsg::Reply {
            spake,
            card,
            confirm,
        } => (spake, card, confirm),
        PairMsg::Refused { reason } => return Err(PairError::Refused(reason)),
        other => {
            return Err(PairError::Invalid(format!(
                "{other:?} where a reply was due"
            )));
        }
    };
    host_card.check().map_err(PairError::Invalid)?;
    let key = key32(
        state
            .finish(&spake_h)
            .map_err(|e| PairError::Invalid(format!("a bad SPAKE2 message: {e:?}")))?,
    )?;
    let t = transcript(me, peer, card, &host_card, &spake_j, &spake_h);
    if mac(&key, b"host", &t) != confirm_h {
        let _ = refuse(send, "the codes do not match").await;
        // Wait for the host to count the attempt, so a retry finds it ready.
        let _ = tokio::time::timeout(Duration::from_secs(5), wire::recv::<PairMsg>(recv, MAX_MSG))
            .await;
        return Err(PairError::WrongCode);
    }
    wire::send(
        send,
        &PairMsg::Confirm {
            confirm: mac(&key, b"joiner", &t),
        },
    )
    .await?;
    match step(wire::recv(recv, MAX_MSG)).await? {
        PairMsg::Done => Ok(host_card),
        PairMsg::Refused { reason } => Err(PairError::Refused(reason)),
        other => Err(PairError::Invalid(format!("{other:?} where Done was due"))),
    }
}

/// What the host decided about one incoming attempt, before it stores anything. The host
/// then answers: [`finish_host`] once it stored a match, [`refuse`] otherwise (after
/// counting the failure, so the joiner's next attempt finds the session ready).
#[derive(Debug)]
pub enum HostOutcome {
    /// The codes matched: store the joiner (`card`) and then call [`finish_host`].
    Matched(Card),
    /// The attempt failed (a wrong code counts against the session).
    Failed {
        /// Why.
        error: PairError,
        /// Whether it was a guess of the code (counted against [`MAX_ATTEMPTS`]).
        counts: bool,
    },
}

/// The host's side of one attempt, after the joiner's `Hello` (see [`read_first`]).
/// `session_code` is the open session's code (the caller checked the slot and expiry).
pub async fn host(
    send: &mut (impl AsyncWrite + Unpin),
    recv: &mut (impl AsyncRead + Unpin),
    hello: (Vec<u8>, Card),
    session_code: &PairingCode,
    me: &[u8; 32],
    peer: &[u8; 32],
    card: &Card,
) -> HostOutcome {
    let (spake_j, joiner_card) = hello;
    if let Err(e) = joiner_card.check() {
        return HostOutcome::Failed {
            error: PairError::Invalid(e),
            counts: false,
        };
    }
    let (state, spake_h) = Spake2::<Ed25519Group>::start_b(
        &session_code.password(),
        &Identity::new(peer),
        &Identity::new(me),
    );
    let key = match state.finish(&spake_j) {
        Ok(k) => match key32(k) {
            Ok(k) => k,
            Err(error) => {
                return HostOutcome::Failed {
                    error,
                    counts: true,
                };
            }
        },
        Err(e) => {
            return HostOutcome::Failed {
                error: PairError::Invalid(format!("a bad SPAKE2 message: {e:?}")),
                counts: true,
            };
        }
    };
    let t = transcript(peer, me, &joiner_card, card, &spake_j, &spake_h);
    let reply = PairMsg::Reply {
        spake: spake_h,
        card: card.clone(),
        confirm: mac(&key, b"host", &t),
    };
    if let Err(e) = wire::send(send, &reply).await {
        return HostOutcome::Failed {
            error: e.into(),
            counts: true,
        };
    }
    match step(wire::recv(recv, MAX_MSG)).await {
        Ok(PairMsg::Confirm { confirm }) if confirm == mac(&key, b"joiner", &t) => {
            HostOutcome::Matched(joiner_card)
        }
        Ok(PairMsg::Confirm { .. }) => HostOutcome::Failed {
            error: PairError::WrongCode,
            counts: true,
        },
        Ok(PairMsg::Refused { .. }) => HostOutcome::Failed {
            error: PairError::WrongCode,
            counts: true,
        },
        Ok(other) => HostOutcome::Failed {
            error: PairError::Invalid(format!("{other:?} where a confirmation was due")),
            counts: true,
        },
        Err(error) => HostOutcome::Failed {
            error,
            counts: true,
        },
    }
}

/// Tells the joiner the pairing is stored.
///
/// # Errors
/// [`WireError`] when the stream fails.
pub async fn finish_host(send: &mut (impl AsyncWrite + Unpin)) -> Result<(), WireError> {
    wire::send(send, &PairMsg::Done).await
}

/// Sends a refusal with a reason.
///
/// # Errors
/// [`WireError`] when the stream fails.
pub async fn refuse(send: &mut (impl AsyncWrite + Unpin), reason: &str) -> Result<(), WireError> {
    wire::send(
        send,
        &PairMsg::Refused {
            reason: reason.to_owned(),
        },
    )
    .await
}

/// Reads the first message of a `cairn/pair/1` stream.
///
/// # Errors
/// [`PairError`] for a timeout or a protocol error.
pub async fn read_first(recv: &mut (impl AsyncRead + Unpin)) -> Result<PairMsg, PairError> {
    step(wire::recv(recv, MAX_MSG)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(n: u8) -> Card {
        Card {
            id: Uuid::from_bytes([n; 16]),
            name: format!("device {n}"),
            addrs: vec![],
        }
    }

    /// Runs one attempt over an in-memory pipe; the host side checks the slot like the
    /// endpoint does.
    fn attempt(
        host_code: &PairingCode,
        typed: &PairingCode,
    ) -> (Result<Card, PairError>, HostOutcome) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let (j, h) = tokio::io::duplex(64 * 1024);
            let (mut jr, mut jw) = tokio::io::split(j);
            let (mut hr, mut hw) = tokio::io::split(h);
            let (jk, hk) = ([1u8; 32], [2u8; 32]);
            let (c1, c2) = (card(1), card(2));
            let joiner = join(&mut jw, &mut jr, typed, &jk, &hk, &c1);
            let hosting = async {
                let PairMsg::Hello {
                    slot,
                    spake,
                    card: c,
                } = read_first(&mut hr).await.unwrap()
                else {
                    panic!("hello first")
                };
                assert_eq!(slot, typed.slot());
                let out = host(&mut hw, &mut hr, (spake, c), host_code, &hk, &jk, &c2).await;
                match &out {
                    HostOutcome::Matched(_) => finish_host(&mut hw).await.unwrap(),
                    HostOutcome::Failed { error, .. } => {
                        refuse(&mut hw, &error.to_string()).await.unwrap();
                    }
                }
                out
            };
            tokio::join!(joiner, hosting)
        })
    }

    #[test]
    fn the_same_code_pairs_and_each_learns_the_others_card() {
        let code = PairingCode::generate();
        let (j, h) = attempt(&code, &code);
        assert_eq!(j.unwrap(), card(2));
        assert!(matches!(h, HostOutcome::Matched(c) if c == card(1)));
    }

    #[test]
    fn a_wrong_code_pairs_neither_side() {
        let code = PairingCode::parse("1234-5678-9012").unwrap();
        let typo = PairingCode::parse("1234 5678 9013").unwrap();
        let (j, h) = attempt(&code, &typo);
        assert!(matches!(j, Err(PairError::WrongCode)), "{j:?}");
        assert!(
            matches!(
                h,
                HostOutcome::Failed {
                    error: PairError::WrongCode,
                    counts: true
                }
            ),
            "{h:?}"
        );
    }

    #[test]
    fn codes_parse_and_print() {
        let c = PairingCode::parse(" 123456789012 ").unwrap();
        assert_eq!(c.to_string(), "1234-5678-9012");
        assert_eq!(c.slot(), 1234);
        assert!(PairingCode::parse("1234-5678-901").is_err());
        assert!(PairingCode::parse("1234-5678-901x").is_err());
        let a = PairingCode::generate();
        assert_eq!(PairingCode::parse(&a.to_string()).unwrap(), a);
        assert!(
            !format!("{a:?}").contains(&a.to_string()[5..]),
            "Debug hides the secret"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any bytes as a pairing message give a message or an error, never a panic.
        #[test]
        fn arbitrary_pairing_messages_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = wire::decode::<PairMsg>(&bytes);
        }
    }
}
