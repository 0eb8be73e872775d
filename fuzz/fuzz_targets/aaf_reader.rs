//! Any bytes as an AAF file: the streaming reader ends with records or an error, never a
//! panic, whatever the encoding declaration, entities or nesting.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preau_interop::aaf::reader::AafReader;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = AafReader::new("f.xml", data) {
        while let Ok(Some(_)) = reader.next_record() {}
    }
});
