//! ONDE extracts of any content: reading and planning never panic.
//! The input is the pupils' file, then `\n====\n`, then the guardians' file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preau_domain::provisioning::{PlanOptions, Snapshot, plan};
use preau_interop::onde::{OndeFile, read_school};

fuzz_target!(|data: &[u8]| {
    let split = data
        .windows(6)
        .position(|w| w == b"\n====\n")
        .unwrap_or(data.len());
    let (eleves, rest) = data.split_at(split);
    let responsables = rest.get(6..).unwrap_or_default();
    let files = [
        OndeFile {
            name: "eleves.csv".into(),
            bytes: eleves.to_vec(),
        },
        OndeFile {
            name: "responsables.csv".into(),
            bytes: responsables.to_vec(),
        },
    ];
    if let Ok(feed) = read_school("0990001A", &files) {
        let _ = plan(
            feed,
            &Snapshot::default(),
            PlanOptions::default(),
            uuid::Uuid::new_v4,
        );
    }
});
