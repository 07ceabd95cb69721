"""The API's document and the API are one: every route is documented, and what the document
says about inputs, outputs and limits is what the server does."""

from __future__ import annotations

import pytest
import schemathesis

from directory.api.contract import API_PREFIX
from directory.referrals import service, workflow
from directory.search import DEFAULT_PER_PAGE, DEFAULT_RADIUS_KM, MAX_PER_PAGE, MAX_RADIUS_KM
from tests.factories import PractitionerFactory
from tests.referral_helpers import make_referral, token_for

SPEC = f"{API_PREFIX}/openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def document(client) -> dict:
    """The served OpenAPI document."""
    response = client.get(SPEC)
    assert response.status_code == 200
    return response.get_json()


def query_parameter(doc: dict, path: str, name: str) -> dict:
    """The schema of one query parameter of a GET operation."""
    (parameter,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter["schema"]


# --- The document and the URL map ---------------------------------------------------------


def test_every_api_route_is_documented_and_every_documented_operation_exists(app, client):
    doc = document(client)
    assert doc["openapi"].startswith("3.0.")
    assert doc["servers"] == [{"url": API_PREFIX}]
    documented = {(path, method) for path, item in doc["paths"].items() for method in item if method in METHODS}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX) or rule.rule == SPEC:
            continue
        path = rule.rule.removeprefix(API_PREFIX).replace("<int:", "{").replace("<", "{").replace(">", "}")
        served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_operations_keep_their_ids_and_say_which_need_a_bearer_token(client):
    doc = document(client)
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    ids = {}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue  # the path's own "parameters"
            ids[(path, method)] = operation["operationId"]
            if path.startswith("/referrals/{referral_id}"):
                # A token says who asks; without one the answer is a stranger's 404.
                assert operation["security"] == [{"bearerAuth": []}, {}], path
            elif path.startswith(("/referrals", "/me/", "/webhooks")) or path == "/me":
                assert operation["security"] == [{"bearerAuth": []}], path
            else:
                assert operation["security"] == [], path
    assert ids == {
        ("/practitioners", "get"): "searchPractitioners",
        ("/practitioners/{practitioner_id}", "get"): "getPractitioner",
        ("/conditions", "get"): "listConditions",
        ("/me", "get"): "getMe",
        ("/me/practitioner", "get"): "getOwnPractitioner",
        ("/me/practitioner", "patch"): "updateOwnPractitioner",
        ("/me/practitioner/confirm", "post"): "confirmOwnPractitioner",
        ("/referrals", "get"): "listReferrals",
        ("/webhooks", "get"): "listWebhooks",
        ("/webhooks", "post"): "createWebhook",
        ("/webhooks/{webhook_id}", "delete"): "deleteWebhook",
        ("/referrals", "post"): "createReferral",
        ("/referrals/{referral_id}", "get"): "getReferral",
        ("/referrals/{referral_id}/transitions", "post"): "transitionReferral",
        ("/referrals/{referral_id}/fhir", "get"): "getReferralFhir",
    }


def test_list_schemas_describe_what_each_list_answers(client):
    """Only the search counts to a limit: count_exact is in its schema and nowhere else."""
    schemas = document(client)["components"]["schemas"]
    search = client.get(f"{API_PREFIX}/practitioners", query_string={"lat": 40, "lon": -105}).get_json()
    assert set(search) == set(schemas["SearchResults"]["properties"])
    assert set(schemas["ReferralList"]["properties"]) == {"count", "page", "per_page", "results"}


# --- The drifts the old hand-written document had -------------------------------------------


def test_a_provider_listing_drafts_gets_answers_the_document_allows(app, client, provider_user, practitioner_user):
    make_referral(provider_user, practitioner_user, status=workflow.DRAFT)
    make_referral(provider_user, practitioner_user)
    doc = document(client)
    assert doc["components"]["schemas"]["Referral"]["properties"]["status"]["enum"] == list(workflow.STATUSES)
    response = client.get(f"{API_PREFIX}/referrals", headers=token_for(provider_user))
    assert sorted(r["status"] for r in response.get_json()["results"]) == ["draft", "requested"]
    schemathesis.openapi.from_wsgi(SPEC, app).find_operation_by_path("get", "/referrals").validate_response(response)


def test_the_status_filter_of_the_referral_list_is_documented(client, provider_user, practitioner_user):
    make_referral(provider_user, practitioner_user, status=workflow.DRAFT)
    make_referral(provider_user, practitioner_user)
    status = query_parameter(document(client), "/referrals", "status")
    assert set(workflow.STATUSES) <= set(status["enum"])
    drafts = client.get(f"{API_PREFIX}/referrals?status=draft", headers=token_for(provider_user)).get_json()
    assert [r["status"] for r in drafts["results"]] == ["draft"]


def test_a_move_documents_the_version_it_reads(client, provider_user, practitioner_user):
    transition = document(client)["components"]["schemas"]["Transition"]
    assert transition["properties"]["version"]["type"] == "integer"
    assert transition["required"] == ["status"]
    # Its status enum is the table's statuses and actions (a no-show keeps the status); one no move
    # reaches is refused by the table (403/409).
    assert transition["properties"]["status"]["enum"] == list(workflow.STATUSES + workflow.ACTIONS)
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    stale = client.post(
        f"{API_PREFIX}/referrals/{referral.id}/transitions",
        json={"status": "accepted", "version": referral.version - 1},
        headers=token_for(practitioner_user),
    )
    assert stale.status_code == 409


def test_urgency_is_optional_and_defaults_to_routine_as_documented(client):
    new = document(client)["components"]["schemas"]["NewReferral"]
    assert "urgency" not in new["required"]
    assert new["properties"]["urgency"]["default"] == "routine"
    assert new["properties"]["urgency"]["enum"] == list(service.URGENCIES)
    assert new["properties"]["preferred_contact"]["enum"][1:3] == list(service.CONTACT_METHODS)


# --- Errors keep the site's shape ------------------------------------------------------------


@pytest.mark.parametrize(
    "body, message",
    [
        ({"status": "finished"}, "status must be one of draft, requested, received"),
        ({"status": "accepted", "version": "1"}, "version must be an integer."),
        ({"status": "accepted", "note": ["x"]}, "note must be a string."),
        ({"status": "in-progress", "appointment_at": "next tuesday"}, "appointment_at must be an ISO 8601 date-time"),
    ],
)
def test_bad_input_answers_400_with_one_sentence_not_422(client, provider_user, practitioner_user, body, message):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    response = client.post(
        f"{API_PREFIX}/referrals/{referral.id}/transitions", json=body, headers=token_for(practitioner_user)
    )
    assert response.status_code == 400
    assert list(response.get_json()) == ["error"]
    assert response.get_json()["error"].startswith(message)


def test_the_api_leaves_the_sites_html_error_pages_alone(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get(f"{API_PREFIX}/no-such-thing")
    assert api.status_code == 404 and api.get_json() == {"error": "We could not find that page."}


def test_referral_api_answers_400_for_ids_and_pages_out_of_range(client, provider_user, practitioner_user):
    """Found by the fuzzer: an id beyond INTEGER and a Unicode digit in `page` were 500s."""
    headers = token_for(provider_user)
    body = {"practitioner_id": 2**70, "patient": {"name": "Pat", "phone": "1"}, "reason": "jaw", "consent": True}
    response = client.post(f"{API_PREFIX}/referrals", json=body, headers=headers)
    assert response.status_code == 400 and "Unknown practitioner" in response.get_json()["error"]
    for page in ["²", "١", "-1", "0", "1e3", "100001"]:
        response = client.get(f"{API_PREFIX}/referrals", query_string={"page": page}, headers=headers)
        assert response.status_code == 400, page
        assert response.get_json()["error"] == "page must be a whole number from 1 to 100000."


# --- The search: documented from the parser's own limits -------------------------------------


def test_the_documented_search_limits_are_the_parsers_own(client):
    doc = document(client)
    radius = query_parameter(doc, "/practitioners", "radius_km")
    assert radius["maximum"] == MAX_RADIUS_KM and radius["default"] == DEFAULT_RADIUS_KM
    per_page = query_parameter(doc, "/practitioners", "per_page")
    assert per_page["maximum"] == MAX_PER_PAGE and per_page["default"] == DEFAULT_PER_PAGE
    here = {"lat": 40, "lon": -105}

    def answer(**params) -> int:
        return client.get(f"{API_PREFIX}/practitioners", query_string={**here, **params}).status_code

    # Every documented maximum is accepted by parse_search_args, and one past it refused.
    for name in ("page", "per_page"):
        top = query_parameter(doc, "/practitioners", name)["maximum"]
        if name == "page":  # no search here has that many pages: the top one is past the last, not too large
            error = lambda page: client.get(f"{API_PREFIX}/practitioners", query_string={**here, "page": page}).json  # noqa: E731
            assert "past the last page" in error(top)["error"] and error(top + 1) == {"error": "page is too large"}
            continue
        assert (answer(**{name: top}), answer(**{name: top + 1})) == (200, 400), name
    assert (answer(radius_km=radius["maximum"]), answer(radius_km=radius["maximum"] + 1)) == (200, 400)
    language = query_parameter(doc, "/practitioners", "language")["maxLength"]
    error = lambda **params: client.get(f"{API_PREFIX}/practitioners", query_string={**here, **params}).json  # noqa: E731
    assert error(language="x" * language)["error"].startswith("unknown language")  # long enough, but no language
    assert error(language="x" * (language + 1)) == {"error": "language is too long"}
    assert answer(language="Español") == 200
    for name in ("fee_max", "session_minutes"):
        limits = query_parameter(doc, "/practitioners", name)
        low, high = limits["minimum"], limits["maximum"]
        assert [answer(**{name: n}) for n in (low - 1, low, high, high + 1)] == [400, 200, 200, 400], name
    for name in ("verified", "accepting", "wheelchair", "gender", "sort"):
        for word in query_parameter(doc, "/practitioners", name)["enum"]:
            assert answer(**{name: word}) == 200, (name, word)
        assert answer(**{name: "maybe"}) == 400, name
    assert query_parameter(doc, "/practitioners", "sort")["default"] == "distance"
    near = query_parameter(doc, "/practitioners", "near")["maxLength"]
    assert client.get(f"{API_PREFIX}/practitioners", query_string={"near": "x" * (near + 1)}).status_code == 400


def test_a_search_result_has_the_documented_keys_and_shares_the_profiles(client):
    """The keys a result shares with GET /practitioners/<id> are documented alike in both schemas."""
    schemas = document(client)["components"]["schemas"]
    practitioner = PractitionerFactory(fee_min=60, fee_max=90, gender="nonbinary", languages="English, Welsh")
    result = client.get(f"{API_PREFIX}/practitioners", query_string={"lat": 40.015, "lon": -105.27}).get_json()
    summary, profile = schemas["PractitionerSummary"]["properties"], schemas["Practitioner"]["properties"]
    assert set(result["results"][0]) == set(summary)
    shared = ["session_minutes", "fee_min", "fee_max", "currency", "languages", "wheelchair_accessible", "gender"]
    for key in shared:
        assert summary[key] == profile[key], key
    assert summary["gender"]["nullable"] is True and summary["gender"]["enum"] == ["female", "male", "nonbinary", None]
    detail = client.get(f"{API_PREFIX}/practitioners/{practitioner.id}").get_json()
    assert detail["gender"] == result["results"][0]["gender"] == "nonbinary"
    assert detail["languages"] == result["results"][0]["languages"] == ["English", "Welsh"]


def test_the_api_and_the_search_page_refuse_the_same_input_with_the_same_words(client):
    api = client.get(f"{API_PREFIX}/practitioners", query_string={"lat": 40, "lon": -105, "radius_km": 900})
    page = client.get("/search", query_string={"lat": 40, "lon": -105, "radius": 900})
    assert api.status_code == page.status_code == 400
    assert api.get_json()["error"] in page.get_data(as_text=True)


# --- Links come from SITE_URL ------------------------------------------------------------------


def test_links_in_api_answers_come_from_the_site_url_not_the_host_header(app, client, provider_user, practitioner_user):
    app.config["SERVER_NAME_FOR_EMAIL"] = "https://cst.example.org"
    forged = {"Host": "evil.example"}
    PractitionerFactory(display_name="Bea Boulder", latitude=40.02, longitude=-105.27)
    referral = make_referral(provider_user, practitioner_user)
    found = client.get(f"{API_PREFIX}/practitioners?lat=40&lon=-105", headers=forged).get_json()
    links = [r["url"] for r in found["results"]]
    profile = client.get(f"{API_PREFIX}/practitioners/{practitioner_user.practitioner.id}", headers=forged)
    links.append(profile.get_json()["url"])
    sent = client.get(f"{API_PREFIX}/referrals/{referral.id}", headers={**forged, **token_for(provider_user)})
    links.append(sent.get_json()["url"])
    listed = client.get(f"{API_PREFIX}/referrals", headers={**forged, **token_for(provider_user)}).get_json()
    links += [r["url"] for r in listed["results"]]
    assert len(links) >= 4
    assert all(link.startswith("https://cst.example.org/") for link in links), links
