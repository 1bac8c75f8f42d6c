"""ropa.planning without a database: documents parsed, imports planned, edits applied."""

from __future__ import annotations

import pytest

from ropa.errors import ValidationFailed
from ropa.planning import Edit, apply_edit, parse_documents, plan_import, state_index
from ropa.schema import KINDS

PARTY = KINDS["party"]
EMPTY = {kind.name: {} for kind in KINDS.values()}


def _doc(*parties: dict) -> dict:
    return {"ropa": 1, "parties": list(parties)}


def test_a_key_twice_is_refused_with_both_places():
    with pytest.raises(ValidationFailed) as e:
        parse_documents(
            [(_doc({"key": "acme", "name": "A"}), "a.yaml"), (_doc({"key": "acme"}), "b.yaml")]
        )
    assert [str(p) for p in e.value.problems] == [
        "b.yaml:parties[0].key: duplicate key 'acme' (also at a.yaml:parties[0])"
    ]


def test_an_import_into_an_empty_register_creates_every_record():
    incoming = parse_documents([(_doc({"key": "acme", "name": "Acme", "kind": "other"}), "d")])
    state, changes, problems = plan_import(EMPTY, incoming, False, "d")
    assert problems == []
    assert [(c.kind.name, c.key, c.action) for c in changes] == [("party", "acme", "create")]
    assert state["party"]["acme"]["name"] == "Acme"


def test_an_import_with_the_same_values_changes_nothing_and_keeps_the_record():
    current = {**EMPTY, "party": {"acme": PARTY.new_record() | {"key": "acme", "name": "Acme"}}}
    incoming = parse_documents([(_doc({"key": "acme", "name": "Acme"}), "d")])
    state, changes, problems = plan_import(current, incoming, False, "d")
    assert (changes, problems) == ([], [])
    assert state["party"]["acme"] is current["party"]["acme"]


def test_names_are_unique_within_a_kind():
    incoming = parse_documents(
        [(_doc({"key": "a", "name": "Acme"}, {"key": "b", "name": "ACME"}), "d")]
    )
    _, _, problems = plan_import(EMPTY, incoming, False, "d")
    assert [str(p) for p in problems] == [
        # placed at the record that takes the name second, as every problem of a file is
        "d:parties[1].name: 2 parties share the name 'Acme': a, b; names are unique within "
        "their kind"
    ]


def test_an_edit_leaves_the_record_it_was_given_as_it_was():
    before = PARTY.new_record() | {"key": "acme", "name": "Acme", "country": "DE"}
    index = state_index({**EMPTY, "party": {"acme": before}})
    after = apply_edit(PARTY, before, Edit(set={"country": "FR"}), index, "party acme")
    assert after["country"] == "FR" and before["country"] == "DE"


def test_an_edit_of_the_key_or_an_unknown_field_is_refused():
    before = PARTY.new_record() | {"key": "acme", "name": "Acme"}
    with pytest.raises(ValidationFailed) as e:
        apply_edit(PARTY, before, Edit(set={"key": "x"}, clear=["colour"]), state_index(EMPTY), "p")
    assert [str(p) for p in e.value.problems] == [
        "p: unknown party field 'colour' (did you mean: country?)",
        "p: a key cannot change; it is the record's identity",
    ]
