//! `amlplan` flags end to end (filled below).
