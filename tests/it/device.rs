//! Device identity.

use crate::common::{cairn, fails, json, ok};

#[test]
fn identity_is_stable_and_the_secret_is_private() {
    let tmp = tempfile::tempdir().unwrap();
    let a = json(&ok(cairn(tmp.path()).args(["--json", "device", "show"])));
    let b = json(&ok(cairn(tmp.path()).args(["--json", "device", "show"])));
    assert_eq!(a, b);
    assert_eq!(a["public_key"].as_str().unwrap().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("device.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let renamed = json(&ok(cairn(tmp.path()).args([
        "--json",
        "device",
        "rename",
        "Studio PC",
    ])));
    assert_eq!(renamed["name"], "Studio PC");
    assert_eq!(renamed["id"], a["id"]);
    let c = json(&ok(cairn(tmp.path()).args(["--json", "device", "show"])));
    assert_eq!(c["name"], "Studio PC");
    assert_eq!(c["public_key"], a["public_key"]);
}

#[test]
fn a_corrupt_identity_is_an_error_and_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    ok(cairn(tmp.path()).args(["device", "show"]));
    let key = tmp.path().join("device.key");
    std::fs::write(&key, "not hex\n").unwrap();
    let err = fails(cairn(tmp.path()).args(["device", "show"]));
    assert!(
        err.contains("device.key") && err.contains("damaged"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), "not hex\n");

    // A key that does not match the public key is caught too.
    let tmp2 = tempfile::tempdir().unwrap();
    ok(cairn(tmp2.path()).args(["device", "show"]));
    std::fs::write(
        tmp2.path().join("device.key"),
        format!("{}\n", "11".repeat(32)),
    )
    .unwrap();
    let err = fails(cairn(tmp2.path()).args(["device", "show"]));
    assert!(err.contains("does not match"), "{err}");

    // Half an identity is not silently completed.
    std::fs::remove_file(tmp2.path().join("device.key")).unwrap();
    let toml_before = std::fs::read_to_string(tmp2.path().join("device.toml")).unwrap();
    let err = fails(cairn(tmp2.path()).args(["device", "show"]));
    assert!(err.contains("missing"), "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp2.path().join("device.toml")).unwrap(),
        toml_before
    );
    assert!(!tmp2.path().join("device.key").exists());
}

/// Regression: a `device.key` planted as a symlink was followed — read as the identity, and
/// `chmod 0600` applied to its target. Now it is refused, naming it, and its target is left as
/// it was.
#[cfg(unix)]
#[test]
fn a_device_key_planted_as_a_symlink_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    ok(cairn(tmp.path()).args(["device", "show"]));
    let key = tmp.path().join("device.key");
    let elsewhere = tmp.path().join("shared-notes.txt");
    // The target holds a valid key (the real one), readable by others.
    std::fs::copy(&key, &elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &key).unwrap();
    let err = fails(cairn(tmp.path()).args(["device", "show"]));
    assert!(
        err.contains("device.key") && err.contains("plain file"),
        "{err}"
    );
    let mode = std::fs::metadata(&elsewhere).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the link's target was not chmod-ed");
}
