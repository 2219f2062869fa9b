//! How a resource block repeats (`count`, `for_each` or neither) and what that means for the
//! instances state holds at other keys, as Terraform 1.1 and later decide it
//! (`refactoring.ImpliedMoveStatements`, then `ApplyMoves`, then the orphans' delete reasons):
//!
//! | configuration      | state holds        | result                                                  |
//! |--------------------|--------------------|---------------------------------------------------------|
//! | no `count`/`for_each` | `x[0]`, no `x`  | moved to `x` (same object, nothing to do)               |
//! | `count`            | `x`, no `x[0]`     | moved to `x[0]`                                         |
//! | either of the two  | both `x` and `x[0]`| move blocked (warning); the one left over is destroyed  |
//! | `for_each`         | `x` or `x[0]`      | no move; destroyed (wrong repetition)                   |
//! | `count = N`        | `x[i]`, i ≥ N      | destroyed (index out of range for count)                |
//! | `for_each`         | `x["k"]` not a key | destroyed (key not in the `for_each` map)               |
//! | no `count`         | `x[i]`, i > 0, or `x["k"]` | destroyed (wrong repetition)                    |
//! | no block at all    | any                | destroyed (not in the configuration)                    |
//!
//! A move happens in the state before anything is planned, so references and refresh see the
//! object at its new address; the plan records it as the change's `previous_addr`. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::addr::{InstanceKey, ResourceAddr};

use super::ChangeReason;

/// How a resource block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expansion {
    /// Neither `count` nor `for_each`: one instance, no key.
    Single,
    /// `count`: integer keys.
    Count,
    /// `for_each`: string keys.
    ForEach,
}

/// One instance moved from one address to another in state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Move {
    /// The address in state before.
    pub from: ResourceAddr,
    /// The address after.
    pub to: ResourceAddr,
}

/// The implied moves of one state and configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moves {
    /// Moves to make (the target address is free).
    pub moved: Vec<Move>,
    /// Moves not made because state already holds an object at the target address.
    pub blocked: Vec<Move>,
}

/// The implied moves between `x` and `x[0]` (see the module table). `state` holds the current
/// objects' addresses; `expansions` how each configured block repeats, by address without key
/// (blocks not listed are not in the configuration: no move).
///
/// ```
/// use model::plan::{implied_moves, Expansion};
/// let addr = |text: &str| text.parse::<model::addr::ResourceAddr>().unwrap();
/// let expansions = [(addr("azureml_compute_cluster.cpu"), Expansion::Single)].into();
/// let moves = implied_moves(&[addr("azureml_compute_cluster.cpu[0]")], &expansions);
/// assert_eq!(moves.moved[0].to, addr("azureml_compute_cluster.cpu"));
/// ```
pub fn implied_moves(
    state: &[ResourceAddr],
    expansions: &BTreeMap<ResourceAddr, Expansion>,
) -> Moves {
    let present: BTreeSet<&ResourceAddr> = state.iter().collect();
    let mut moves = Moves::default();
    for addr in state {
        let Some(expansion) = expansions.get(&addr.without_key()) else {
            continue;
        };
        let to = match (expansion, &addr.key) {
            (Expansion::Count, None) => addr.clone().with_key(InstanceKey::Index(0)),
            (Expansion::Single, Some(InstanceKey::Index(0))) => addr.without_key(),
            _ => continue,
        };
        let candidate = Move {
            from: addr.clone(),
            to,
        };
        if present.contains(&candidate.to) {
            moves.blocked.push(candidate);
        } else {
            moves.moved.push(candidate);
        }
    }
    moves
}

/// One end of a `moved` block: a resource (every instance, or one when keyed) or a module
/// instance (every object inside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveEndpoint {
    /// `azureml_x.y` or `azureml_x.y[0]`, possibly in a module.
    Resource(ResourceAddr),
    /// `module.a`, `module.a["k"]`.
    Module(crate::addr::ModulePath),
}

impl MoveEndpoint {
    /// Whether `addr` is this endpoint's object (or one of its instances, or inside it).
    ///
    /// ```
    /// use model::plan::MoveEndpoint;
    /// let addr = |text: &str| text.parse::<model::addr::ResourceAddr>().unwrap();
    /// let endpoint = MoveEndpoint::Resource(addr("azureml_x.a"));
    /// assert!(endpoint.covers(&addr("azureml_x.a[3]")));
    /// assert!(!endpoint.covers(&addr("azureml_x.b")));
    /// ```
    pub fn covers(&self, addr: &ResourceAddr) -> bool {
        match self {
            MoveEndpoint::Resource(endpoint) => {
                addr.module == endpoint.module
                    && addr.mode == endpoint.mode
                    && addr.resource_type == endpoint.resource_type
                    && addr.name == endpoint.name
                    && (endpoint.key.is_none() || endpoint.key == addr.key)
            }
            MoveEndpoint::Module(path) => {
                addr.module.0.len() >= path.0.len() && addr.module.0[..path.0.len()] == path.0[..]
            }
        }
    }
}

impl std::fmt::Display for MoveEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MoveEndpoint::Resource(addr) => write!(f, "{addr}"),
            MoveEndpoint::Module(path) => write!(f, "{path}"),
        }
    }
}

/// The moves `moved` blocks declare, applied in order to the addresses in `state` (so
/// `a → b` then `b → c` moves `a` to `c`), as Terraform's `ApplyMoves`: a resource endpoint
/// without key moves every instance (keys kept), one with a key moves that instance; a module
/// endpoint moves every object inside it. A move whose target is taken is blocked.
///
/// ```
/// use model::plan::{declared_moves, MoveEndpoint};
/// let addr = |text: &str| text.parse::<model::addr::ResourceAddr>().unwrap();
/// let state = [addr("azureml_compute_cluster.old[0]")];
/// let moves = declared_moves(&state, &[(
///     MoveEndpoint::Resource(addr("azureml_compute_cluster.old")),
///     MoveEndpoint::Resource(addr("azureml_compute_cluster.new")),
/// )]);
/// assert_eq!(moves.moved[0].to, addr("azureml_compute_cluster.new[0]"));
/// ```
pub fn declared_moves(
    state: &[ResourceAddr],
    statements: &[(MoveEndpoint, MoveEndpoint)],
) -> Moves {
    let mut present: BTreeSet<ResourceAddr> = state.iter().cloned().collect();
    // Where each object started, so a chain records one move per object.
    let mut origin: BTreeMap<ResourceAddr, ResourceAddr> = state
        .iter()
        .map(|addr| (addr.clone(), addr.clone()))
        .collect();
    let mut blocked = Vec::new();
    for (from, to) in statements {
        let pairs: Vec<(ResourceAddr, ResourceAddr)> = present
            .iter()
            .filter_map(|addr| Some((addr.clone(), moved_addr(addr, from, to)?)))
            .collect();
        for (old, new) in pairs {
            if present.contains(&new) {
                blocked.push(Move { from: old, to: new });
                continue;
            }
            present.remove(&old);
            present.insert(new.clone());
            let start = origin.remove(&old).unwrap_or_else(|| old.clone());
            origin.insert(new, start);
        }
    }
    let mut moved: Vec<Move> = origin
        .into_iter()
        .filter(|(now, start)| now != start)
        .map(|(to, from)| Move { from, to })
        .collect();
    moved.sort();
    Moves { moved, blocked }
}

/// Where `addr` goes under the move `from → to`, if the move covers it.
fn moved_addr(addr: &ResourceAddr, from: &MoveEndpoint, to: &MoveEndpoint) -> Option<ResourceAddr> {
    match (from, to) {
        (MoveEndpoint::Resource(from), MoveEndpoint::Resource(to)) => {
            let same_resource = addr.module == from.module
                && addr.mode == from.mode
                && addr.resource_type == from.resource_type
                && addr.name == from.name;
            if !same_resource {
                return None;
            }
            match (&from.key, &to.key) {
                (None, None) => Some(ResourceAddr {
                    key: addr.key.clone(),
                    ..to.clone()
                }),
                (Some(key), _) if addr.key.as_ref() == Some(key) => Some(to.clone()),
                (None, Some(_)) => (addr.key.is_none()).then(|| to.clone()),
                _ => None,
            }
        }
        (MoveEndpoint::Module(from), MoveEndpoint::Module(to)) => {
            let steps = &addr.module.0;
            if steps.len() < from.0.len() || steps[..from.0.len()] != from.0[..] {
                return None;
            }
            let mut module = to.0.clone();
            module.extend(steps[from.0.len()..].iter().cloned());
            Some(addr.clone().in_module(crate::addr::ModulePath(module)))
        }
        _ => None,
    }
}

/// Why an instance in state that the configuration does not declare is destroyed, given how its
/// block repeats (`None`: no block).
pub fn orphan_reason(addr: &ResourceAddr, expansion: Option<Expansion>) -> ChangeReason {
    match (expansion, &addr.key) {
        (None, _) => ChangeReason::DeleteBecauseNoResourceConfig,
        (Some(Expansion::Count), Some(InstanceKey::Index(_))) => {
            ChangeReason::DeleteBecauseCountIndex
        }
        (Some(Expansion::ForEach), Some(InstanceKey::Key(_))) => ChangeReason::DeleteBecauseEachKey,
        (Some(Expansion::Single), None) => ChangeReason::DeleteBecauseNoResourceConfig,
        (Some(_), _) => ChangeReason::DeleteBecauseWrongRepetition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn addr(text: &str) -> ResourceAddr {
        text.parse().expect("address")
    }

    /// The moves made and the moves blocked, as `from -> to` lines.
    fn shown(moves: &Moves) -> (Vec<String>, Vec<String>) {
        let show = |moves: &[Move]| {
            moves
                .iter()
                .map(|one| format!("{} -> {}", one.from, one.to))
                .collect()
        };
        (show(&moves.moved), show(&moves.blocked))
    }

    fn moves_of(state: &[&str], expansion: Expansion) -> (Vec<String>, Vec<String>) {
        let state: Vec<ResourceAddr> = state.iter().map(|text| addr(text)).collect();
        let expansions = [(addr("azureml_compute_cluster.cpu"), expansion)].into();
        let moves = implied_moves(&state, &expansions);
        shown(&moves)
    }

    #[test]
    fn index_zero_and_no_key_move_when_count_is_removed_or_added() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            moves_of(
                &[
                    "azureml_compute_cluster.cpu[0]",
                    "azureml_compute_cluster.cpu[1]"
                ],
                Expansion::Single
            ),
            (
                vec!["azureml_compute_cluster.cpu[0] -> azureml_compute_cluster.cpu".to_owned()],
                none.clone()
            )
        );
        assert_eq!(
            moves_of(&["azureml_compute_cluster.cpu"], Expansion::Count),
            (
                vec!["azureml_compute_cluster.cpu -> azureml_compute_cluster.cpu[0]".to_owned()],
                none.clone()
            )
        );
        // for_each never implies a move, and other keys never move.
        for state in [
            &["azureml_compute_cluster.cpu"][..],
            &["azureml_compute_cluster.cpu[0]"],
        ] {
            assert_eq!(
                moves_of(state, Expansion::ForEach),
                (none.clone(), none.clone())
            );
        }
        assert_eq!(
            moves_of(&["azureml_compute_cluster.cpu[5]"], Expansion::Single),
            (none.clone(), none.clone())
        );
    }

    #[test]
    fn a_move_onto_an_occupied_address_is_blocked() {
        assert_eq!(
            moves_of(
                &[
                    "azureml_compute_cluster.cpu",
                    "azureml_compute_cluster.cpu[0]"
                ],
                Expansion::Single
            ),
            (
                Vec::new(),
                vec!["azureml_compute_cluster.cpu[0] -> azureml_compute_cluster.cpu".to_owned()]
            )
        );
    }

    #[test]
    fn orphans_get_terraforms_delete_reasons() {
        let reason = |text: &str, expansion| orphan_reason(&addr(text), expansion);
        assert_eq!(
            reason("azureml_compute_cluster.cpu[5]", Some(Expansion::Count)),
            ChangeReason::DeleteBecauseCountIndex
        );
        assert_eq!(
            reason(
                "azureml_compute_cluster.cpu[\"a\"]",
                Some(Expansion::ForEach)
            ),
            ChangeReason::DeleteBecauseEachKey
        );
        for (text, expansion) in [
            ("azureml_compute_cluster.cpu[5]", Expansion::Single),
            ("azureml_compute_cluster.cpu[5]", Expansion::ForEach),
            ("azureml_compute_cluster.cpu[\"a\"]", Expansion::Count),
            ("azureml_compute_cluster.cpu", Expansion::Count),
            ("azureml_compute_cluster.cpu", Expansion::ForEach),
        ] {
            assert_eq!(
                reason(text, Some(expansion)),
                ChangeReason::DeleteBecauseWrongRepetition,
                "{text} with {expansion:?}"
            );
        }
        assert_eq!(
            reason("azureml_compute_cluster.cpu[0]", None),
            ChangeReason::DeleteBecauseNoResourceConfig
        );
    }

    fn declared(state: &[&str], statements: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
        let endpoint = |text: &str| match crate::addr::ModulePath::parse(text) {
            Ok(path) => MoveEndpoint::Module(path),
            Err(_) => MoveEndpoint::Resource(addr(text)),
        };
        let state: Vec<ResourceAddr> = state.iter().map(|text| addr(text)).collect();
        let statements: Vec<(MoveEndpoint, MoveEndpoint)> = statements
            .iter()
            .map(|(from, to)| (endpoint(from), endpoint(to)))
            .collect();
        let moves = declared_moves(&state, &statements);
        shown(&moves)
    }

    #[test]
    fn declared_moves_follow_chains_keys_and_module_prefixes() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            declared(
                &["azureml_x.a[0]", "azureml_x.a[1]", "azureml_x.other"],
                &[
                    ("azureml_x.a", "azureml_x.b"),
                    ("azureml_x.b", "azureml_x.c")
                ]
            ),
            (
                vec![
                    "azureml_x.a[0] -> azureml_x.c[0]".to_owned(),
                    "azureml_x.a[1] -> azureml_x.c[1]".to_owned()
                ],
                none.clone()
            )
        );
        assert_eq!(
            declared(
                &["azureml_x.a[1]", "azureml_x.a[2]"],
                &[("azureml_x.a[1]", "azureml_x.one")]
            ),
            (
                vec!["azureml_x.a[1] -> azureml_x.one".to_owned()],
                none.clone()
            )
        );
        assert_eq!(
            declared(
                &[
                    "azureml_x.a",
                    "module.old[\"k\"].azureml_x.b",
                    "module.old[\"k\"].module.c.azureml_x.d"
                ],
                &[
                    ("module.old[\"k\"]", "module.new"),
                    ("azureml_x.a", "module.new.azureml_x.a")
                ]
            ),
            (
                vec![
                    "azureml_x.a -> module.new.azureml_x.a".to_owned(),
                    "module.old[\"k\"].azureml_x.b -> module.new.azureml_x.b".to_owned(),
                    "module.old[\"k\"].module.c.azureml_x.d -> module.new.module.c.azureml_x.d"
                        .to_owned(),
                ],
                none.clone()
            )
        );
        assert_eq!(
            declared(
                &["azureml_x.a", "azureml_x.b"],
                &[("azureml_x.a", "azureml_x.b")]
            ),
            (none, vec!["azureml_x.a -> azureml_x.b".to_owned()])
        );
    }
}
