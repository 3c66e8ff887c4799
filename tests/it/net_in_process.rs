//! Paired devices with both endpoints in this process (each with its own data folder), and
//! a hostile peer speaking raw iroh: what the two-process tests in `peers` cannot reach.

use std::net::SocketAddr;

use cairn::net::browse::{BrowseReq, BrowseResp};
use cairn::net::pair::PairingCode;
use cairn::net::transfer::{TransferReq, TransferResp};
use cairn::net::{Net, NetOptions, alpn, wire};
use cairn::vdfs::fs::rules::Rules;
use cairn::vdfs::index::location::IndexMode;
use cairn::vdfs::jobs::JobStatus;
use cairn::{Core, CoreOptions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn loopback() -> NetOptions {
    NetOptions {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
    }
}

/// Pairs `laptop` (whose core is `core`) with `desk` by a code, and returns desk as the laptop
/// knows it.
fn paired(core: &Core, desk: &Net, laptop: &Net) -> cairn::net::peers::PairedDevice {
    core.runtime().block_on(async {
        let code = desk.open_pairing();
        laptop.join(&code, &desk.peer_addr()).await.unwrap();
        desk.wait_paired().await.unwrap();
    });
    laptop.paired().list().unwrap().remove(0)
}

/// Two devices in this process, each with its own data folder under `base`: desk serving
/// `shared` (a shallow location), and laptop, paired with it, whose endpoint is its core's
/// shared one (as the transfer jobs, registered, find it). Fields drop in order: the
/// endpoints before their cores.
struct Devices {
    d: cairn::net::peers::PairedDevice,
    laptop: Net,
    desk: Net,
    laptop_lib: std::sync::Arc<cairn::vdfs::Library>,
    laptop_core: Core,
    _desk_lib: std::sync::Arc<cairn::vdfs::Library>,
    _desk_core: Core,
}

fn two_devices(base: &std::path::Path, shared: &std::path::Path) -> Devices {
    let desk_core = Core::start(CoreOptions::at(base.join("desk"))).unwrap();
    let desk_lib = desk_core.open_library(None).unwrap();
    let (_, job) = desk_lib
        .add_location(shared, IndexMode::Shallow, Rules::default())
        .unwrap();
    assert_eq!(job.wait(), JobStatus::Completed);
    let laptop_core = Core::start(CoreOptions::at(base.join("laptop"))).unwrap();
    cairn::net::job::register(&laptop_core);
    let laptop_lib = laptop_core.open_library(None).unwrap();
    let desk = desk_core
        .runtime()
        .block_on(Net::start(&desk_core, loopback()))
        .unwrap();
    let laptop = laptop_core
        .runtime()
        .block_on(Net::shared(&laptop_core, loopback()))
        .unwrap();
    let d = paired(&laptop_core, &desk, &laptop);
    Devices {
        d,
        laptop,
        desk,
        laptop_lib,
        laptop_core,
        _desk_lib: desk_lib,
        _desk_core: desk_core,
    }
}

/// A code with the same slot as `code` and other digits.
fn wrong(code: &PairingCode) -> PairingCode {
    let w = PairingCode::parse(&format!("{:04}-0000-0000", code.slot())).unwrap();
    if w == *code {
        PairingCode::parse(&format!("{:04}-0000-0001", code.slot())).unwrap()
    } else {
        w
    }
}

#[test]
fn three_wrong_codes_end_the_session_even_for_the_right_one() {
    let tmp = tempfile::tempdir().unwrap();
    let desk_core = Core::start(CoreOptions::at(tmp.path().join("desk"))).unwrap();
    let laptop_core = Core::start(CoreOptions::at(tmp.path().join("laptop"))).unwrap();
    runtime().block_on(async {
        let desk = Net::start(&desk_core, loopback()).await.unwrap();
        let laptop = Net::start(&laptop_core, loopback()).await.unwrap();
        let code = desk.open_pairing();
        for attempt in 1..=3 {
            let e = laptop
                .join(&wrong(&code), &desk.peer_addr())
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains("does not match"), "attempt {attempt}: {e}");
        }
        let e = desk.wait_paired().await.unwrap_err().to_string();
        assert!(e.contains("3 times"), "{e}");
        // The host is still up; the right code is refused now.
        let e = laptop
            .join(&code, &desk.peer_addr())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no pairing code is open"), "{e}");
        assert!(desk.paired().list().unwrap().is_empty());
        assert!(laptop.paired().list().unwrap().is_empty());
        desk.close().await;
        laptop.close().await;
    });
}

/// A raw iroh endpoint with the 32-byte secret `key`, on loopback: a peer that says
/// whatever it likes.
async fn raw_endpoint(key: [u8; 32]) -> iroh::Endpoint {
    iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .secret_key(iroh::SecretKey::from_bytes(&key))
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .portmapper_config(iroh::endpoint::PortmapperConfig::Disabled)
        .bind()
        .await
        .unwrap()
}

/// Sends `bytes` on a new stream of `conn` and returns the first message answered.
async fn answer_to<M: serde::de::DeserializeOwned>(
    conn: &iroh::endpoint::Connection,
    bytes: &[u8],
) -> M {
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(bytes).await.unwrap();
    send.finish().unwrap();
    wire::recv(&mut recv, 4 << 20).await.unwrap()
}

#[test]
fn malformed_truncated_and_oversized_messages_are_refused_and_the_peer_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = std::fs::canonicalize(tmp.path()).unwrap().join("shared");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.txt"), b"a").unwrap();
    let desk_core = Core::start(CoreOptions::at(tmp.path().join("desk"))).unwrap();
    let lib = desk_core.open_library(None).unwrap();
    let (_, job) = lib
        .add_location(&tree, IndexMode::Shallow, Rules::default())
        .unwrap();
    assert_eq!(job.wait(), JobStatus::Completed);
    let laptop_data = tmp.path().join("laptop");
    let laptop_core = Core::start(CoreOptions::at(&laptop_data)).unwrap();
    let laptop_key: [u8; 32] = hex::decode(
        std::fs::read_to_string(laptop_data.join("device.key"))
            .unwrap()
            .trim(),
    )
    .unwrap()
    .try_into()
    .unwrap();
    runtime().block_on(async {
        let desk = Net::start(&desk_core, loopback()).await.unwrap();
        let laptop = Net::start(&laptop_core, loopback()).await.unwrap();
        let code = desk.open_pairing();
        laptop.join(&code, &desk.peer_addr()).await.unwrap();
        desk.wait_paired().await.unwrap();
        let at = desk.peer_addr();
        let desk_addr = iroh::EndpointAddr::new(at.id).with_ip_addr(at.addrs[0]);

        // The laptop's own key, speaking garbage on one connection.
        let hostile = raw_endpoint(laptop_key).await;
        let conn = hostile
            .connect(desk_addr.clone(), alpn::BROWSE)
            .await
            .unwrap();
        let too_long = u32::MAX.to_le_bytes();
        let cut = [&100u32.to_le_bytes()[..], b"only ten b"].concat();
        let junk = [&5u32.to_le_bytes()[..], &[0xff; 5]].concat();
        for (bytes, why) in [
            (&too_long[..], "at most"),
            (&cut[..], "middle of a message"),
            (&junk[..], "malformed BrowseReq"),
            (&[][..], "without answering"),
        ] {
            match answer_to::<BrowseResp>(&conn, bytes).await {
                BrowseResp::Error(e) => assert!(e.contains(why), "{why}: {e}"),
                other => panic!("{why}: answered {other:?}"),
            }
        }
        // The same connection still serves a good request.
        let ok = answer_to::<BrowseResp>(&conn, &wire::frame(&BrowseReq::Locations)).await;
        assert!(
            matches!(&ok, BrowseResp::Locations(l) if l.len() == 1),
            "{ok:?}"
        );

        // The transfer protocol likewise.
        let conn = hostile
            .connect(desk_addr.clone(), alpn::TRANSFER)
            .await
            .unwrap();
        match answer_to::<TransferResp>(&conn, &junk).await {
            TransferResp::Error(e) => assert!(e.contains("malformed TransferReq"), "{e}"),
            other => panic!("answered {other:?}"),
        }
        let path = tree.join("a.txt").into_os_string().into_encoded_bytes();
        let ok =
            answer_to::<TransferResp>(&conn, &wire::frame(&TransferReq::Read { path, offset: 0 }))
                .await;
        assert!(matches!(ok, TransferResp::Header { size: 1, .. }), "{ok:?}");

        // A stranger's key is closed before anything is read, on every protocol.
        let stranger = raw_endpoint([7; 32]).await;
        for a in [alpn::BROWSE, alpn::TRANSFER, alpn::PAIR] {
            let conn = stranger.connect(desk_addr.clone(), a).await.unwrap();
            // Whichever step meets the closed connection first fails; none gets an answer.
            let answered = async {
                let (mut send, mut recv) = conn.open_bi().await?;
                send.write_all(&wire::frame(&BrowseReq::Locations)).await?;
                send.finish()?;
                recv.read_to_end(1 << 20).await?;
                Ok::<_, anyhow::Error>(())
            }
            .await;
            assert!(
                answered.is_err(),
                "{} answered a stranger",
                String::from_utf8_lossy(a)
            );
            let reason = format!("{:?}", conn.closed().await);
            assert!(
                reason.contains("403") || reason.contains("404"),
                "{}: {reason}",
                String::from_utf8_lossy(a)
            );
        }
        hostile.close().await;
        stranger.close().await;
        desk.close().await;
        laptop.close().await;
    });
}

/// A pull tells its bytes while a file comes (not only when it is done), and a copy as a job
/// stops mid-file on Pause, keeping its partial file, and goes on from it on Resume.
#[test]
fn a_copy_tells_its_bytes_as_they_come_and_pauses_and_resumes_as_a_job() {
    use cairn::net::job::TransferJob;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let tree = base.join("shared");
    std::fs::create_dir_all(&tree).unwrap();
    let big: Vec<u8> = crate::common::pattern(256u32 << 20);
    let src = tree.join("big.bin");
    std::fs::write(&src, &big).unwrap();
    let Devices {
        laptop_core,
        laptop_lib,
        desk,
        laptop,
        d,
        ..
    } = &two_devices(&base, &tree);

    // Bytes are told as they come.
    let inbox = base.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let told = std::sync::Mutex::new(Vec::new());
    laptop_core
        .runtime()
        .block_on(laptop.pull(
            d,
            &desk.addrs(),
            src.as_os_str().as_bytes(),
            &inbox,
            &|done, total| told.lock().unwrap().push((done, total)),
        ))
        .unwrap();
    let told = told.into_inner().unwrap();
    let size = big.len() as u64;
    assert!(told.len() > 10, "{} calls", told.len());
    assert!(told.windows(2).all(|w| w[0].0 <= w[1].0 && w[1].1 == size));
    assert!(told[0].0 < size / 2, "{:?}", told[0]);
    assert_eq!(told.last(), Some(&(size, size)));

    // As a job: paused mid-file, then resumed from its partial file.
    let again = base.join("again");
    std::fs::create_dir(&again).unwrap();
    let job = TransferJob::pull(
        laptop_core,
        d.id,
        &d.name,
        desk.addrs(),
        vec![src.as_os_str().as_bytes().to_vec()],
        &again,
    );
    let handle = laptop_lib.jobs().spawn(job).unwrap();
    let part = crate::common::wait_for_part(&again, 16 << 20);
    laptop_lib.jobs().pause(handle.id()).unwrap();
    assert_eq!(handle.wait(), JobStatus::Paused);
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept >= 16 << 20 && kept < size, "{kept}");
    assert!(!again.join("big.bin").exists());
    let record = laptop_lib.jobs().get(handle.id()).unwrap();
    assert!(record.progress.completed > 0 && record.progress.total == Some(size));
    let handle = laptop_lib.jobs().resume(handle.id()).unwrap();
    assert_eq!(handle.wait(), JobStatus::Completed);
    assert_eq!(std::fs::read(again.join("big.bin")).unwrap(), big);
    assert!(!part.exists());
    let outcome = laptop_lib.jobs().get(handle.id()).unwrap().outcome.unwrap();
    assert!(
        outcome.contains("went on from where an earlier run stopped"),
        "{outcome}"
    );
}

/// A copy from a device lands in a Content location with the content identity computed from
/// its bytes as they came: the rescan that indexes it takes each file's cas_id and type from
/// the copy instead of reading the file again. (Shown by a file changed after it landed but
/// kept at its size and time, which the index cannot tell from the file as copied: it keeps
/// the copy's cas_id. The rule is the index's everywhere: same size and time, same file.)
#[test]
fn a_copy_from_a_device_is_indexed_with_the_cas_ids_of_its_bytes_as_received() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let tree = base.join("shared");
    let src = tree.join("report");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("notes.md", b"# Notes\n\nplain words\n".to_vec()),
        ("sub/big.bin", crate::common::pattern(3 << 20)),
        ("sub/edge.bin", crate::common::pattern(102_400)),
        ("picture.png", {
            let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
            p.extend(crate::common::pattern(4000));
            p
        }),
        ("sub/empty", Vec::new()),
    ];
    for (rel, data) in &files {
        std::fs::write(src.join(rel), data).unwrap();
    }
    let Devices {
        laptop_core,
        laptop_lib,
        desk,
        laptop,
        d,
        ..
    } = &two_devices(&base, &tree);
    let home = base.join("home");
    std::fs::create_dir(&home).unwrap();
    let (_, job) = laptop_lib
        .add_location(&home, IndexMode::Content, Rules::default())
        .unwrap();
    assert_eq!(job.wait(), JobStatus::Completed);
    let report = laptop_core
        .runtime()
        .block_on(laptop.pull(
            d,
            &desk.addrs(),
            src.as_os_str().as_bytes(),
            &home,
            &|_, _| {},
        ))
        .unwrap();
    assert_eq!(report.files, 5, "{report:?}");

    // Changed since it landed, at the same size and time.
    let landed = home.join("report");
    let edited = landed.join("notes.md");
    let mtime = std::fs::metadata(&edited).unwrap().modified().unwrap();
    std::fs::write(&edited, b"# Notes\n\nother words\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&edited)
        .unwrap()
        .set_modified(mtime)
        .unwrap();

    let job = cairn::net::index_copied(laptop_core, &landed).expect("a rescan");
    assert_eq!(job.wait(), JobStatus::Completed);
    for (rel, data) in &files {
        let rec = laptop_lib
            .entry_at(&landed.join(rel))
            .unwrap()
            .unwrap_or_else(|| panic!("{rel} is indexed"))
            .record;
        assert_eq!(
            rec.cas,
            cairn::vdfs::content::cas_id_of_bytes(data),
            "{rel}"
        );
    }
    let md = laptop_lib.entry_at(&edited).unwrap().unwrap().record;
    assert_ne!(
        md.cas,
        cairn::vdfs::content::cas_id_of_bytes(b"# Notes\n\nother words\n"),
        "the copy's cas_id, not a rehash"
    );
    // The types are those a content index finds.
    let png = laptop_lib
        .entry_at(&landed.join("picture.png"))
        .unwrap()
        .unwrap()
        .record;
    let content = laptop_lib.content(png.cas.unwrap()).unwrap().unwrap();
    assert_eq!(content.mime.as_deref(), Some("image/png"), "{content:?}");
    let md = laptop_lib.entry_at(&edited).unwrap().unwrap().record;
    let content = laptop_lib.content(md.cas.unwrap()).unwrap().unwrap();
    assert_eq!(
        content.mime.as_deref(),
        Some("text/markdown"),
        "{content:?}"
    );
}

/// A cancelled send asks the receiving device to remove the partial files it left there:
/// exactly those (found by the names the push gave them), not another partial-looking file of
/// the person's own in the same folder.
#[test]
fn a_cancelled_send_leaves_no_partial_file_on_the_receiving_device() {
    use cairn::net::job::TransferJob;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let album = base.join("mine/album");
    std::fs::create_dir_all(album.join("sub")).unwrap();
    std::fs::write(album.join("sub/big.bin"), crate::common::pattern(256 << 20)).unwrap();
    std::fs::write(album.join("small.txt"), b"small").unwrap();
    let inbox = base.join("inbox");
    let there = inbox.join("album/sub");
    std::fs::create_dir_all(&there).unwrap();
    let decoy = there.join(".cairn-pull-0123456789abcdef.part");
    std::fs::write(&decoy, b"the person's own").unwrap();

    let Devices {
        laptop_core,
        laptop_lib,
        desk,
        d,
        ..
    } = &two_devices(&base, &inbox);

    let job = TransferJob::push(
        laptop_core,
        d.id,
        &d.name,
        desk.addrs(),
        std::slice::from_ref(&album),
        inbox.as_os_str().as_bytes().to_vec(),
    );
    let handle = laptop_lib.jobs().spawn(job).unwrap();
    let part = crate::common::wait_for_part(&there, 16 << 20);
    assert_ne!(part, decoy);
    // Paused, the device's pull stops with it.
    laptop_lib.jobs().pause(handle.id()).unwrap();
    assert_eq!(handle.wait(), JobStatus::Paused);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kept = std::fs::metadata(&part).unwrap().len();
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(
        std::fs::metadata(&part).unwrap().len(),
        kept,
        "still growing"
    );
    assert!(!there.join("big.bin").exists());
    let handle = laptop_lib.jobs().cancel(handle.id()).unwrap();
    assert_eq!(handle.wait(), JobStatus::Cancelled);
    let outcome = laptop_lib.jobs().get(handle.id()).unwrap().outcome;
    assert_eq!(outcome.as_deref(), Some("cancelled"));
    assert!(!part.exists(), "the push's partial file is removed");
    assert_eq!(std::fs::read(&decoy).unwrap(), b"the person's own");
    // The device's pull stopped with the send: nothing comes back later.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let left: Vec<_> = std::fs::read_dir(&there)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![decoy.file_name().unwrap().to_owned()]);
    assert!(!inbox.join("album/small.txt").exists());
}

/// A paired device's key on a sender that answers a pull with raw data frames that break the
/// protocol: over the frame limit, longer than the file, empty, cut short, or bytes that do
/// not match the hash it announces. Each pull fails with a protocol error and nothing is
/// left under the final name; the same connection then serves an honest pull, which lands.
#[test]
fn a_sender_of_bad_data_frames_is_refused_and_nothing_lands() {
    use cairn::net::transfer::{DATA_CHUNK, ManifestEntry};
    use cairn::vdfs::fs::entry::EntryKind;
    const SIZE: usize = 1000;
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let desk_data = base.join("desk");
    let desk_core = Core::start(CoreOptions::at(&desk_data)).unwrap();
    let laptop_core = Core::start(CoreOptions::at(base.join("laptop"))).unwrap();
    let desk_key: [u8; 32] = hex::decode(
        std::fs::read_to_string(desk_data.join("device.key"))
            .unwrap()
            .trim(),
    )
    .unwrap()
    .try_into()
    .unwrap();
    let inbox = base.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let rt = runtime();
    rt.block_on(async {
        let desk = Net::start(&desk_core, loopback()).await.unwrap();
        let laptop = Net::start(&laptop_core, loopback()).await.unwrap();
        let code = desk.open_pairing();
        laptop.join(&code, &desk.peer_addr()).await.unwrap();
        desk.wait_paired().await.unwrap();
        desk.close().await;
        let d = laptop.paired().list().unwrap().remove(0);

        // desk's key, answering as a sender that misbehaves by the file asked for.
        let hostile = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
            .secret_key(iroh::SecretKey::from_bytes(&desk_key))
            .alpns(vec![alpn::TRANSFER.to_vec()])
            .relay_mode(iroh::RelayMode::Disabled)
            .clear_ip_transports()
            .bind_addr("127.0.0.1:0")
            .unwrap()
            .portmapper_config(iroh::endpoint::PortmapperConfig::Disabled)
            .bind()
            .await
            .unwrap();
        let at = hostile.bound_sockets();
        let server = hostile.clone();
        tokio::spawn(async move {
            while let Some(incoming) = server.accept().await {
                let Ok(conn) = incoming.await else { continue };
                tokio::spawn(async move {
                    while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                        tokio::spawn(async move {
                            let req: TransferReq = wire::recv(&mut recv, 1 << 16).await.unwrap();
                            let data = vec![b'x'; SIZE];
                            let msg = |m: &TransferResp| wire::frame(m);
                            let raw =
                                |len: u32, bytes: &[u8]| [&len.to_le_bytes()[..], bytes].concat();
                            let out: Vec<u8> = match req {
                                TransferReq::Manifest { .. } => [
                                    msg(&TransferResp::Entries(vec![ManifestEntry {
                                        rel: Vec::new(),
                                        kind: EntryKind::File,
                                        size: SIZE as u64,
                                        mtime_ns: 0,
                                        mode: 0o644,
                                    }])),
                                    msg(&TransferResp::End {
                                        files: 1,
                                        bytes: SIZE as u64,
                                        skipped: 0,
                                        skipped_names: Vec::new(),
                                    }),
                                ]
                                .concat(),
                                TransferReq::Read { path, .. } => {
                                    let name = String::from_utf8(path).unwrap();
                                    let header = msg(&TransferResp::Header {
                                        size: SIZE as u64,
                                        mtime_ns: 0,
                                    });
                                    let good = *blake3::hash(&data).as_bytes();
                                    let done = |hash| msg(&TransferResp::Done { hash });
                                    let body = match name.rsplit('/').next().unwrap() {
                                        "over-limit" => raw(DATA_CHUNK as u32 + 1, &data),
                                        "longer" => raw(
                                            SIZE as u32 + 1,
                                            &[data.clone(), vec![b'y']].concat(),
                                        ),
                                        "empty-frame" => raw(0, &[]),
                                        "cut-short" => raw(SIZE as u32, &data[..SIZE / 2]),
                                        "lying" => {
                                            [raw(SIZE as u32, &vec![b'z'; SIZE]), done(good)]
                                                .concat()
                                        }
                                        _ => [raw(SIZE as u32, &data), done(good)].concat(),
                                    };
                                    [header, body].concat()
                                }
                                _ => msg(&TransferResp::Error("no".into())),
                            };
                            let _ = send.write_all(&out).await;
                            let _ = send.finish();
                        });
                    }
                });
            }
        });

        for (name, why) in [
            ("over-limit", "at most"),
            ("longer", "more bytes than the file has"),
            ("empty-frame", "more bytes than the file has"),
            ("cut-short", ""),
            ("lying", "do not match the BLAKE3 it announced"),
        ] {
            let remote = format!("/shared/{name}");
            let got = laptop
                .pull(&d, &at, remote.as_bytes(), &inbox, &|_, _| {})
                .await;
            let e = got.expect_err(name).to_string();
            assert!(e.contains(why), "{name}: {e}");
            assert!(!inbox.join(name).exists(), "{name} landed");
        }
        // The honest answer on the same endpoint lands, verified.
        let report = laptop
            .pull(&d, &at, b"/shared/honest", &inbox, &|_, _| {})
            .await
            .unwrap();
        assert_eq!(report.files, 1);
        assert_eq!(
            std::fs::read(inbox.join("honest")).unwrap(),
            vec![b'x'; SIZE]
        );
        hostile.close().await;
        laptop.close().await;
    });
}
