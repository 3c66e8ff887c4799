//! `cairn volume list`: the volumes of the machine running the tests, as the binary reports
//! them (issue "Index model v4", section 2).

use crate::common::{cairn, json, ok};

#[test]
fn volume_list_json_has_the_root_as_a_system_volume_with_a_fingerprint() {
    if !std::path::Path::new("/proc/self/mountinfo").exists() {
        eprintln!("skipped: no /proc/self/mountinfo");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let v = json(&ok(cairn(data.path()).args(["volume", "list", "--json"])));
    let list = v.as_array().expect("an array of volumes");
    let root = list
        .iter()
        .find(|v| v["mount_point"] == "/")
        .unwrap_or_else(|| panic!("no volume at /: {v:#}"));
    assert_eq!(root["kind"], "system", "{root:#}");
    let fp = root["fingerprint"].as_str().expect("fingerprint text");
    assert!(!fp.is_empty(), "{root:#}");
    assert!(root["fingerprint_parts"].is_object(), "{root:#}");
    for field in ["fs_type", "source", "name"] {
        assert!(root[field].is_string(), "{field}: {root:#}");
    }
    for field in ["removable", "read_only", "strong_fingerprint"] {
        assert!(root[field].is_boolean(), "{field}: {root:#}");
    }
    assert!(root["st_dev"].is_u64(), "{root:#}");
    assert!(root["other_mount_points"].is_array(), "{root:#}");
    // Read from a live system, size and free space are there and make sense.
    let (cap, free) = (root["capacity"].as_u64(), root["free"].as_u64());
    assert!(cap.is_some_and(|c| c > 0) && free <= cap, "{root:#}");
    // No pseudo file system is a volume.
    assert!(
        list.iter()
            .all(|v| v["fs_type"] != "proc" && v["fs_type"] != "sysfs")
    );

    // The table names the same volumes.
    let table = ok(cairn(data.path()).args(["volume", "list"]));
    let header = table.lines().next().unwrap();
    for col in [
        "MOUNT POINT",
        "LABEL",
        "TYPE",
        "KIND",
        "SIZE",
        "FREE",
        "FLAGS",
        "FINGERPRINT",
    ] {
        assert!(header.contains(col), "{table}");
    }
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("/ ") && l.contains(" system ") && l.contains(fp)),
        "{table}"
    );
}
