//! The cloud, as the engine reaches it: the ARM client over HTTP(S). (Being written.)
