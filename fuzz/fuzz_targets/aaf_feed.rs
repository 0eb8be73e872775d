//! Any bytes as an incremental AAF pupils file, through the feed builder and the plan.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preau_domain::provisioning::{PlanOptions, Snapshot, plan};
use preau_interop::aaf::{AafContext, AafInput, read_files};

fuzz_target!(|data: &[u8]| {
    let kinds = ["EtabEducNat", "Eleve", "PersRelEleve", "PersEducNat"];
    let kind = kinds[data.first().copied().unwrap_or(0) as usize % kinds.len()];
    let inputs = vec![AafInput {
        name: format!("ENT_Delta_20250106_{kind}_0000.xml"),
        reader: Box::new(std::io::Cursor::new(
            data.get(1..).unwrap_or_default().to_vec(),
        )),
    }];
    let context = AafContext {
        academie: Some("99".into()),
        ..AafContext::default()
    };
    if let Ok(feed) = read_files(inputs, &context, &mut |_| {}) {
        let _ = plan(
            feed,
            &Snapshot::default(),
            PlanOptions::default(),
            uuid::Uuid::new_v4,
        );
    }
});
