//! "Did you mean …?" suggestions, shared with the engine's checks so both tools word them alike.

pub(crate) use engine::spelling::{closest, did_you_mean};
