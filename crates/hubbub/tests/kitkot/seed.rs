//! The key set of the seed's room object, read straight from the seed's example
//! (`seed_room.inspect`: the `send_message` success example of seed 000, verbatim, a
//! Node `util.inspect` dump), so the tests check the dialect against the seed and
//! not against hubbub's own template.

use serde_json::Value;

const SEED_ROOM: &str = include_str!("seed_room.inspect");

/// Every key path of the seed's example (`owner.user_attr.is_admin`), objects only,
/// depth first in the seed's order. Arrays are leaves.
pub(crate) fn room_key_paths() -> Vec<String> {
    let mut paths = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut open_arrays = 0;
    let mut lines = SEED_ROOM.lines().map(str::trim);
    assert_eq!(lines.next(), Some("{"), "the example opens an object");
    for line in lines {
        if open_arrays > 0 {
            if line.starts_with(']') {
                open_arrays -= 1;
            }
            continue;
        }
        if line == "}" || line == "}," {
            stack.pop();
            continue;
        }
        let (key, rest) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("unexpected seed line {line:?}"));
        assert!(
            key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line:?}"
        );
        let path = join(&stack, key);
        paths.push(path.clone());
        let rest = rest.trim().trim_end_matches(',');
        if rest == "{" {
            stack.push(key.to_owned());
        } else if rest == "[" {
            open_arrays += 1;
        } else if let Some(inline) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            // `own_room: { room_ids: [Array], room_ids_str: [Array] }`
            for member in inline.split(", ").filter(|m| !m.trim().is_empty()) {
                let (inner, _) = member.trim().split_once(':').unwrap();
                paths.push(format!("{path}.{inner}"));
            }
        }
    }
    assert!(stack.is_empty(), "unbalanced seed example: {stack:?}");
    paths
}

/// Every key path of a JSON value in the same form.
pub(crate) fn key_paths(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn walk(value: &Value, stack: &mut Vec<String>, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (key, inner) in map {
            out.push(join(stack, key));
            stack.push(key.clone());
            walk(inner, stack, out);
            stack.pop();
        }
    }
}

fn join(stack: &[String], key: &str) -> String {
    if stack.is_empty() {
        key.to_owned()
    } else {
        format!("{}.{key}", stack.join("."))
    }
}

#[test]
fn the_seed_example_reads_as_expected() {
    let paths = room_key_paths();
    assert_eq!(paths.len(), 296);
    assert_eq!(&paths[..3], ["code", "msg", "linked_mic"]);
    for path in [
        "owner.own_room.room_ids_str",
        "owner.user_attr.mute_duration",
        "stats.user_count_composition.my_follow",
        "stream_url.live_core_sdk_data.pull_data",
        "extra.pay_scores",
        "anchor_id",
    ] {
        assert!(paths.iter().any(|p| p == path), "{path}");
    }
    assert!(!paths.iter().any(|p| p.starts_with("top_fans.")));
}
