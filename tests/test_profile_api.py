"""The practitioner's own profile over the API: same rules as the editor, same claims screening."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from directory.extensions import db
from directory.models import HeldChange
from tests.admin_support import fresh
from tests.factories import PractitionerFactory
from tests.referral_helpers import token_for

URL = "/api/v1/me/practitioner"


def test_the_owner_reads_their_own_profile_with_its_review(client, practitioner_user):
    response = client.get(URL, headers=token_for(practitioner_user))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == practitioner_user.practitioner.id and body["name"] == "Pat Practitioner"
    assert body["review"] == {"status": "approved", "flags": [], "reason": ""}
    assert body["pending"] == {}


def test_who_may_use_the_profile_api(client, provider_user, admin_user, practitioner_user):
    assert client.get(URL).status_code == 401
    assert client.patch(URL, json={"bio": "x"}).status_code == 401
    for user in (provider_user, admin_user):
        assert client.get(URL, headers=token_for(user)).status_code == 403
        assert client.patch(URL, json={"bio": "Hello there"}, headers=token_for(user)).status_code == 403
        assert client.post(f"{URL}/confirm", headers=token_for(user)).status_code == 403


def test_a_patch_changes_the_fields_through_the_editor_s_rules(client, practitioner_user):
    response = client.patch(
        URL,
        json={
            "phone": "+1 303 555 0100",
            "website": "calm.example.org",
            "session_minutes": 60,
            "fee_min": 80,
            "fee_max": 120,
            "currency": "usd",
            "languages": ["Español", "en"],
            "wheelchair_accessible": True,
            "gender": "female",
            "conditions": ["tmj", "fibromyalgia"],
            "bio": "Gentle, light-touch sessions in a quiet room.",
        },
        headers=token_for(practitioner_user),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["website"] == "https://calm.example.org" and body["currency"] == "USD"
    assert body["languages"] == ["Spanish", "English"] and body["gender"] == "female"
    assert sorted(body["conditions"]) == ["fibromyalgia", "tmj"]
    assert body["review"]["status"] == "approved"
    practitioner = fresh(practitioner_user.practitioner)
    assert practitioner.bio == "Gentle, light-touch sessions in a quiet room."
    assert {loc.languages for loc in practitioner.locations} == {"|es|en|"}


def test_a_flagged_text_is_held_and_not_public(client, practitioner_user):
    practitioner_id = practitioner_user.practitioner.id
    before = client.get(f"/api/v1/practitioners/{practitioner_id}").get_json()["bio"]
    response = client.patch(
        URL,
        json={"bio": "CST cures migraines in 3 sessions — guaranteed!", "phone": "303 555 0101"},
        headers=token_for(practitioner_user),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["review"]["status"] == "pending"
    assert {(f["field"], f["phrase"]) for f in body["review"]["flags"]} == {("bio", "cure"), ("bio", "guarantee")}
    assert all(f["explanation"] for f in body["review"]["flags"])
    assert body["pending"] == {"bio": "CST cures migraines in 3 sessions — guaranteed!"}
    assert body["phone"] == "303 555 0101"  # the clean field changed at once
    public = client.get(f"/api/v1/practitioners/{practitioner_id}").get_json()
    assert public["bio"] == before
    assert "in 3 sessions" not in client.get(f"/practitioners/{practitioner_id}").get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count()).select_from(HeldChange)).scalar_one() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "at least one field"),
        ({"nickname": "x"}, "nickname"),
        ({"session_minutes": 5}, "session_minutes"),
        ({"session_minutes": "60"}, "session_minutes"),
        ({"fee_min": 100, "fee_max": 50}, "fee_max"),
        ({"currency": "dollars"}, "currency"),
        ({"languages": ["qwertyuiop"]}, "languages"),
        ({"gender": "other"}, "gender"),
        ({"conditions": ["warts"]}, "conditions"),
        ({"website": "ftp://x"}, "website"),
        ({"display_name": ""}, "display_name"),
        ({"phone": "call me"}, "phone"),
        ({"accepting_new_patients": "yes"}, "accepting_new_patients"),
    ],
)
def test_bad_values_answer_400_and_change_nothing(client, practitioner_user, body, message):
    before = client.get(URL, headers=token_for(practitioner_user)).get_json()
    response = client.patch(
        URL,
        json={**body, "bio": "A new bio that would be fine."} if body else body,
        headers=token_for(practitioner_user),
    )
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    after = client.get(URL, headers=token_for(practitioner_user)).get_json()
    assert after == before


def test_a_practitioner_confirms_their_details_over_the_api(client, practitioner_user):
    response = client.post(f"{URL}/confirm", headers=token_for(practitioner_user))
    assert response.status_code == 200 and response.get_json()["details_confirmed_at"]
    assert fresh(practitioner_user.practitioner).details_confirmed_at is not None


def test_the_profile_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "patch"} <= set(paths["/me/practitioner"]) and "post" in paths["/me/practitioner/confirm"]


def test_someone_else_s_profile_is_never_touched(client, practitioner_user):
    other = PractitionerFactory(bio="Theirs.")
    client.patch(URL, json={"bio": "Mine now."}, headers=token_for(practitioner_user))
    assert fresh(other).bio == "Theirs."
