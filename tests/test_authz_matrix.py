"""Who may do what: every route of the URL map × every kind of visitor, with the expected answer.

The entries are generated from `app.url_map`: a new route without an entry in EXPECTED fails
`test_every_route_has_an_entry`, and so does an entry for a route that is gone.

Answers: an HTTP status, or
  LOGIN  a redirect to the sign-in page (an anonymous visitor on a signed-in page),
  OK     let through: 200/201/204, a redirect that is not to sign-in, or 400/409/422 (the view
         ran and judged the input; every POST here is sent with no form data).
Run `AUTHZ_DISCOVER=1 pytest tests/test_authz_matrix.py -s -q` to print what each route answers now.
"""

from __future__ import annotations

import os
import re

import pytest

from directory.extensions import db
from tests.conftest import login

ROLES = ["anonymous", "patient", "practitioner", "other_practitioner", "provider", "other_provider", "admin"]
# Denied visitors first, so a change made by an allowed one cannot hide a denial.
ORDER = ["anonymous", "patient", "other_practitioner", "other_provider", "provider", "practitioner", "admin"]
LOGIN = "login"
OK = "ok"
OK_STATUSES = {200, 201, 204, 302, 303, 400, 409, 422}


def _answers(**by_role) -> dict[str, object]:
    """A row of the matrix: `default=` for the roles not named."""
    default = by_role.pop("default", None)
    row = {role: by_role.get(role, default) for role in ROLES}
    assert None not in row.values(), f"incomplete row: {row}"
    return row


# The policies most routes follow.
PUBLIC = _answers(default=200)
PUBLIC_FORM = _answers(default=OK)  # public POST: the view runs for everyone
ADMIN_ONLY_GET = _answers(default=404, admin=200)
ADMIN_ONLY_POST = _answers(default=404, admin=OK)
SIGNED_IN_GET = _answers(default=200, anonymous=LOGIN, patient=LOGIN)
SIGNED_IN_POST = _answers(default=OK, anonymous=LOGIN, patient=LOGIN)
API_SIGNED_IN = _answers(default=200, anonymous=401, patient=401)


def practitioner_only(status, others=403):
    """Only a practitioner (any, on their own profile) gets in; providers and admins get `others`."""
    return _answers(default=others, anonymous=LOGIN, patient=LOGIN, practitioner=status, other_practitioner=status)


def owner_only(status, other_practitioner=404, others=403):
    """Only the practitioner who owns the record; another practitioner does not learn it exists."""
    return _answers(
        default=others, anonymous=LOGIN, patient=LOGIN, practitioner=status, other_practitioner=other_practitioner
    )


def referral_parties(status, admin=None):
    """Only the referring provider and the receiving practitioner (and admins); everyone else,
    signed in or not, gets 404: nobody learns that a referral exists."""
    return _answers(default=404, provider=status, practitioner=status, admin=status if admin is None else admin)


def referrer_only(status):
    """What only the referring provider may do to their referral (edit or delete a draft)."""
    return _answers(default=404, provider=status, practitioner=403, admin=403)


PROVIDERS_ONLY_GET = _answers(default=403, anonymous=LOGIN, patient=LOGIN, provider=200, other_provider=200)
PROVIDERS_ONLY_POST = _answers(default=403, anonymous=LOGIN, patient=LOGIN, provider=OK, other_provider=OK)
SIGNED_OUT_ONLY_GET = _answers(default=302, anonymous=200, patient=200)
SIGNED_OUT_ONLY_POST = _answers(default=302, anonymous=OK, patient=OK)

# "endpoint METHOD" -> the answer per role. Every route of the app has one.
EXPECTED: dict[str, dict[str, object]] = {
    # Operations: health checks for load balancers; metrics for METRICS_ALLOW (the test client is
    # 127.0.0.1; other addresses get 404, see tests/test_ops.py).
    "ops.healthz GET": PUBLIC,
    "ops.readyz GET": PUBLIC,
    "ops.metrics GET": PUBLIC,
    # The FHIR R4 directory: public, read-only, listed profiles only.
    **{
        f"fhir.{name} GET": PUBLIC
        for name in [
            "metadata",
            "conditions",
            "read_practitioner",
            "read_role",
            "read_location",
            "read_organization",
            "search_practitioners",
            "search_roles",
            "search_locations",
            "search_organizations",
        ]
    },
    # Anyone may suggest a correction to a listing or report a concern about it.
    "feedback.suggest_correction GET": PUBLIC,
    "feedback.suggest_correction POST": PUBLIC_FORM,
    "feedback.report_concern GET": PUBLIC,
    "feedback.report_concern POST": PUBLIC_FORM,
    # Corrections reach the practitioner whose listing they concern, and nobody else.
    "feedback.corrections GET": practitioner_only(200, others=404),
    "feedback.accept_correction POST": owner_only(OK, others=404),
    "feedback.dismiss_correction POST": owner_only(OK, others=404),
    "practitioners.confirm_details POST": practitioner_only(OK, others=404),
    "practitioners.request_text_review POST": practitioner_only(OK, others=404),
    # The practitioner's own profile over the API (practice software): a practitioner's token only.
    "api.get_own_practitioner GET": _answers(
        default=403, anonymous=401, patient=401, practitioner=200, other_practitioner=200
    ),
    "api.update_own_practitioner PATCH": _answers(
        default=403, anonymous=401, patient=401, practitioner=OK, other_practitioner=OK
    ),
    "api.confirm_own_practitioner POST": _answers(
        default=403, anonymous=401, patient=401, practitioner=OK, other_practitioner=OK
    ),
    # Claims review, concerns and unanswered corrections: admins only.
    **{
        f"admin.{name} GET": ADMIN_ONLY_GET
        for name in ["claims", "edit_claim", "reviews", "review", "concerns", "corrections"]
    },
    **{
        f"admin.{name} POST": ADMIN_ONLY_POST
        for name in ["claims", "edit_claim", "delete_claim", "approve_review", "reject_review", "close_concern"]
    },
    # Public pages, files and the public API.
    "public.home GET": PUBLIC,
    "public.search GET": PUBLIC,
    "public.profile GET": PUBLIC,
    "public.guidance GET": PUBLIC,
    "public.how_we_verify GET": PUBLIC,
    "public.shortlist GET": PUBLIC,  # the visitor's own shortlist, kept in their session
    "public.shortlist_add POST": PUBLIC_FORM,
    "public.shortlist_remove POST": PUBLIC_FORM,
    "public.shortlist_clear POST": PUBLIC_FORM,
    "static GET": PUBLIC,
    "bootstrap.static GET": PUBLIC,
    "leaflet.static GET": PUBLIC,
    "leaflet.markercluster GET": PUBLIC,
    "practitioners.send_enquiry POST": PUBLIC_FORM,
    "api.list_practitioners GET": PUBLIC_FORM,  # 400: no place given
    "api.get_practitioner GET": PUBLIC,
    "api.list_conditions GET": PUBLIC,
    "api.openapi GET": PUBLIC,
    # Accounts.
    "accounts.signup GET": SIGNED_OUT_ONLY_GET,
    "accounts.signup POST": SIGNED_OUT_ONLY_POST,
    "accounts.login GET": SIGNED_OUT_ONLY_GET,
    "accounts.login POST": SIGNED_OUT_ONLY_POST,
    "accounts.logout POST": _answers(default=302),
    "accounts.confirm GET": PUBLIC_FORM,  # the token decides
    "accounts.confirm_email_change GET": PUBLIC_FORM,
    "accounts.forgot_password GET": PUBLIC,
    "accounts.forgot_password POST": PUBLIC_FORM,
    "accounts.reset_password GET": PUBLIC_FORM,
    "accounts.reset_password POST": PUBLIC_FORM,
    "accounts.resend_confirmation POST": SIGNED_IN_POST,
    "accounts.settings GET": SIGNED_IN_GET,
    "accounts.change_email GET": SIGNED_IN_GET,
    "accounts.change_email POST": SIGNED_IN_POST,
    "accounts.change_password GET": SIGNED_IN_GET,
    "accounts.change_password POST": SIGNED_IN_POST,
    "accounts.export_data GET": SIGNED_IN_GET,
    "accounts.delete_account GET": SIGNED_IN_GET,
    "accounts.delete_account POST": SIGNED_IN_POST,
    "accounts.create_token POST": SIGNED_IN_POST,
    "accounts.revoke_token POST": _answers(default=404, anonymous=LOGIN, patient=LOGIN, practitioner=OK),
    "api.me GET": API_SIGNED_IN,
    # The practitioner's dashboard: practitioners only; their records only.
    "practitioners.dashboard GET": _answers(
        default=302, anonymous=LOGIN, patient=LOGIN, practitioner=200, other_practitioner=200
    ),
    "practitioners.create POST": practitioner_only(OK, others=404),
    "practitioners.edit_basics GET": practitioner_only(200, others=404),
    "practitioners.edit_basics POST": practitioner_only(OK, others=404),
    "practitioners.edit_conditions GET": practitioner_only(200, others=404),
    "practitioners.edit_conditions POST": practitioner_only(OK, others=404),
    "practitioners.publish_profile POST": practitioner_only(OK, others=404),
    "practitioners.unpublish_profile POST": practitioner_only(OK, others=404),
    "practitioners.toggle_accepting POST": practitioner_only(OK, others=404),
    "practitioners.new_location GET": practitioner_only(200, others=404),
    "practitioners.new_location POST": practitioner_only(OK, others=404),
    "practitioners.edit_location GET": owner_only(200, others=404),
    "practitioners.edit_location POST": owner_only(OK, others=404),
    "practitioners.delete_location POST": owner_only(OK, others=404),
    "practitioners.new_training GET": practitioner_only(200, others=404),
    "practitioners.new_training POST": practitioner_only(OK, others=404),
    "practitioners.edit_training GET": owner_only(200, others=404),
    "practitioners.edit_training POST": owner_only(OK, others=404),
    "practitioners.delete_training POST": owner_only(OK, others=404),
    "practitioners.new_license GET": practitioner_only(200, others=404),
    "practitioners.new_license POST": practitioner_only(OK, others=404),
    "practitioners.edit_license GET": owner_only(200, others=404),
    "practitioners.edit_license POST": owner_only(OK, others=404),
    "practitioners.delete_license POST": owner_only(OK, others=404),
    "practitioners.new_certification GET": practitioner_only(200, others=404),
    "practitioners.new_certification POST": practitioner_only(OK, others=404),
    "practitioners.edit_certification GET": owner_only(200, others=404),
    "practitioners.edit_certification POST": owner_only(OK, others=404),
    "practitioners.delete_certification POST": owner_only(OK, others=404),
    "practitioners.evidence GET": {**owner_only(200, others=404), "admin": 200},
    "practitioners.mark_enquiry_read POST": owner_only(OK, others=404),
    "practitioners.edit_photo GET": practitioner_only(200, others=404),
    "practitioners.edit_photo POST": practitioner_only(OK, others=404),
    "practitioners.delete_photo POST": practitioner_only(OK, others=404),
    "practitioners.photo GET": PUBLIC,  # the profile is listed: its photo is public
    # Referrals: the two parties and admins; providers send.
    "referrals.index GET": SIGNED_IN_GET,
    "referrals.new GET": PROVIDERS_ONLY_GET | {"provider": OK, "other_provider": OK},  # 302 to choose whom
    "referrals.new POST": PROVIDERS_ONLY_POST,
    "referrals.provider_profile GET": PROVIDERS_ONLY_GET,
    "referrals.provider_profile POST": PROVIDERS_ONLY_POST,
    "referrals.detail GET": referral_parties(200),
    "referrals.letter GET": referral_parties(200),
    "referrals.move POST": referral_parties(OK),
    "referrals.message POST": referral_parties(OK),
    "referrals.edit GET": referrer_only(OK),
    "referrals.edit POST": referrer_only(OK),
    "referrals.delete POST": referrer_only(OK),
    # Referrer dashboard (issue 13, helper referrer-dashboard): the provider's own summary (others: 404),
    # and the patient's consent confirmed on a draft's page by its author only (404 for everyone else).
    "referrals.summary GET": _answers(default=404, anonymous=LOGIN, patient=LOGIN, provider=200, other_provider=200),
    "referrals.consent POST": _answers(default=404, provider=OK),
    "api.create_referral POST": _answers(default=403, anonymous=401, patient=401, provider=OK, other_provider=OK),
    "api.list_referrals GET": API_SIGNED_IN,
    "api.get_referral GET": referral_parties(200),
    "api.referral_fhir GET": referral_parties(200),
    "api.move_referral POST": referral_parties(OK),
    # Referrals in by FHIR and webhooks (issue 14, helper fhir-in-webhooks): sending a ServiceRequest
    # takes a bearer token (never a session cookie), so every signed-in client here gets 401;
    # reading back has the JSON API's privacy; webhooks are for providers (theirs) and admins.
    "fhir.create_service_request POST": _answers(default=401),
    "fhir.read_service_request GET": referral_parties(200),
    "fhir.read_task GET": referral_parties(200),
    "api.create_webhook POST": _answers(
        default=403, anonymous=401, patient=401, provider=OK, other_provider=OK, admin=OK
    ),
    "api.list_webhooks GET": _answers(
        default=403, anonymous=401, patient=401, provider=200, other_provider=200, admin=200
    ),
    "api.delete_webhook DELETE": _answers(
        default=403, anonymous=401, patient=401, provider=204, other_provider=404, admin=404
    ),
    # The same on the account page: providers and admins add; only the owner removes.
    "accounts.create_webhook POST": _answers(
        default=404, anonymous=LOGIN, patient=LOGIN, provider=OK, other_provider=OK, admin=OK
    ),
    "accounts.delete_webhook POST": _answers(default=404, anonymous=LOGIN, patient=LOGIN, provider=OK),
    # Administration: 404 to everyone else.
    **{
        f"admin.{name} GET": ADMIN_ONLY_GET
        for name in [
            "index",
            "audit",
            "bodies",
            "edit_body",
            "new_body",
            "edit_credential",
            "new_credential",
            "conditions",
            "credentials",
            "credential_evidence",
            "bulk_register",
            "practitioners",
            "providers",
            "users",
        ]
    },
    **{
        f"admin.{name} POST": ADMIN_ONLY_POST
        for name in [
            "edit_body",
            "new_body",
            "edit_credential",
            "new_credential",
            "add_condition",
            "merge_condition",
            "rename_condition",
            "verify_credential",
            "reject_credential",
            "bulk_preview",
            "bulk_apply",
            "publish_profile",
            "unpublish_profile",
            "suspend_profile",
            "reinstate_profile",
            "verify_provider",
            "reject_provider",
            "disable_user",
            "enable_user",
        ]
    },
}


# --- The world every check runs in --------------------------------------------------------


@pytest.fixture
def world(app, practitioner_user, other_practitioner_user, provider_user, other_provider_user, admin_user):
    """One of everything, owned by `practitioner` and `provider`; clients signed in per role."""
    from directory.models import ApiToken, Enquiry, ProfessionalLicense, Training, VerificationStatus
    from tests.factories import CertificationFactory, body, condition
    from tests.referral_helpers import make_referral

    app.config.update(ENQUIRY_MIN_SECONDS=0)
    profile = practitioner_user.practitioner
    evidence = "matrix-evidence.pdf"
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    with open(os.path.join(app.config["UPLOAD_FOLDER"], evidence), "wb") as out:
        out.write(b"%PDF-1.4\n%matrix\n")
    certification = CertificationFactory(
        practitioner=profile,
        status=VerificationStatus.PENDING,
        evidence_path=evidence,
        evidence_name="certificate.pdf",
        evidence_mimetype="application/pdf",
    )
    os.makedirs(os.path.join(app.config["UPLOAD_FOLDER"], "photos"), exist_ok=True)
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "photos", "matrix-photo.jpg"), "wb") as out:
        out.write(b"\xff\xd8\xff\xe0matrix")
    profile.photo_path = "matrix-photo.jpg"
    training = Training(practitioner=profile, course="CST I", provider="Upledger", hours=24)
    licence = ProfessionalLicense(practitioner=profile, profession="LMT", jurisdiction="CO", number="1")
    enquiry = Enquiry(practitioner=profile, name="Pat", email="pat@example.net", message="Hello there", consent=True)
    db.session.add_all([training, licence, enquiry])
    token, _ = ApiToken.issue(practitioner_user, "matrix")
    db.session.commit()
    referral = make_referral(provider_user, practitioner_user)
    upledger = body("upledger")
    from directory.claims.service import pending_change, submit_texts
    from directory.feedback.service import record_concern, record_correction
    from directory.models import ClaimPhrase, ConcernKind

    submit_texts(profile, {"bio": "Miracle results, guaranteed."}, None)
    correction = record_correction(profile, "phone", "303 555 0100", "", False)
    concern = record_concern(profile, ConcernKind.CONDUCT, "Something happened at the practice.", "")
    db.session.commit()
    held = pending_change(profile)
    phrase = db.session.execute(db.select(ClaimPhrase).limit(1)).scalar_one()
    ids = {
        "practitioner_id": profile.id,
        "certification_id": certification.id,
        "location_id": profile.locations[0].id,
        "training_id": training.id,
        "license_id": licence.id,
        "enquiry_id": enquiry.id,
        "token_id": token.id,
        "referral_id": referral.id,
        "body_id": upledger.id,
        "credential_id": upledger.credentials[0].id,
        "condition_id": condition("stress-tension").id,
        "user_id": provider_user.id,
        "token": "not-a-valid-token",
        "photo": "matrix-photo.jpg",
        "change_id": held.id,
        "phrase_id": phrase.id,
        "correction_id": correction.id,
        "concern_id": concern.id,
        "organization_id": f"practice-{profile.id}",
        "webhook_id": _webhook_of(provider_user),
    }
    users = {
        "practitioner": practitioner_user,
        "other_practitioner": other_practitioner_user,
        "provider": provider_user,
        "other_provider": other_provider_user,
        "admin": admin_user,
    }
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role in users:
            login(client, users[role])
        client.csrf_token = _csrf_token_for(app, client)
        clients[role] = client
    _send_enquiry_as_patient(app, clients["patient"], profile.id)
    return {"ids": ids, "clients": clients}


def _webhook_of(user) -> int:
    """A webhook endpoint of the user (fhir-in-webhooks): the id of /api/v1/webhooks/<webhook_id>."""
    from directory.models import WebhookEndpoint

    endpoint = WebhookEndpoint(
        user=user,
        url="http://127.0.0.1:9/hook",
        events="referral.status_changed",
        secret="whsec_dGVzdA==",
        disabled_reason="",
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint.id


def _csrf_token_for(app, client) -> str:
    """A valid CSRF token for this client's session, as Flask-WTF would put in a form.

    CSRF stays on: authorization is checked with requests a real browser could send.
    """
    import secrets

    from itsdangerous import URLSafeTimedSerializer

    raw = secrets.token_hex(20)
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(raw)


def _send_enquiry_as_patient(app, client, practitioner_id: int) -> None:
    """The patient has written to a practitioner: whatever that leaves in their session stays."""
    if "practitioners.send_enquiry" not in app.view_functions:
        return
    page = client.get(f"/practitioners/{practitioner_id}").get_data(as_text=True)
    started = re.search(r'id="enquiry-started"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*id="enquiry-started"', page)
    from directory.models import Enquiry

    before = db.session.query(Enquiry).count()
    client.post(
        f"/practitioners/{practitioner_id}/enquiry",
        data={
            "csrf_token": client.csrf_token,
            "started": (started.group(1) or started.group(2)) if started else "",
            "name": "Pat Patient",
            "email": "pat@example.net",
            "message": "Do you have time next week?",
            "consent": "y",
        },
    )
    assert db.session.query(Enquiry).count() == before + 1, "the patient's enquiry was not accepted"


STATIC_FILES = {
    "static": "css/app.css",
    "bootstrap.static": "css/bootstrap.min.css",
    "leaflet.static": "leaflet.js",
    "leaflet.markercluster": "leaflet.markercluster.js",
}


def _url(rule, ids: dict) -> str:
    """The rule with the world's ids filled in."""
    values = {}
    for arg in rule.arguments:
        if arg == "filename":
            values[arg] = STATIC_FILES[rule.endpoint]
        else:
            assert arg in ids, f"{rule.rule}: add an id for <{arg}> to the world fixture"
            values[arg] = ids[arg]
    return rule.build(values, append_unknown=False)[1]


def _routes(app) -> dict[str, tuple]:
    """'endpoint METHOD' -> (rule, method) for every route of the app."""
    routes = {}
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes[f"{rule.endpoint} {method}"] = (rule, method)
    return routes


def _answer(response) -> object:
    """The status, or LOGIN for a redirect to the sign-in page."""
    if response.status_code in (301, 302, 303) and "/account/login" in response.headers.get("Location", ""):
        return LOGIN
    return response.status_code


def _matches(expected, got) -> bool:
    if expected == OK:
        return got in OK_STATUSES
    return expected == got


def _call(client, method: str, url: str):
    """One request with no input but a valid CSRF token."""
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.open(url, method=method, json={})
    return client.open(url, method=method, data={"csrf_token": client.csrf_token})


# --- The tests ----------------------------------------------------------------------------


def test_every_route_has_an_entry(app):
    routes = set(_routes(app))
    missing = sorted(routes - set(EXPECTED))
    stale = sorted(set(EXPECTED) - routes)
    assert not missing, "routes without an authorization entry in tests/test_authz_matrix.py:\n" + "\n".join(missing)
    assert not stale, "entries for routes that no longer exist:\n" + "\n".join(stale)


def _route_ids() -> list[str]:
    """Every route of a freshly made app, and every entry."""
    from directory import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "collect"})
    return sorted(set(_routes(app)) | set(EXPECTED))


DISCOVER = os.environ.get("AUTHZ_DISCOVER") == "1"
ROUTE_IDS = _route_ids()
# Reading changes nothing that matters here, so every GET shares one world; each other method
# gets a fresh world, since an allowed request may change it.
READS = [route for route in ROUTE_IDS if route.endswith(" GET")]
WRITES = [route for route in ROUTE_IDS if not route.endswith(" GET")]


def _check(app, world, route: str) -> dict:
    """Ask the route as every visitor; the (expected, got) pairs that differ."""
    routes = _routes(app)
    if route not in routes:
        return {"route": ("in EXPECTED", "not in the app")}
    if route not in EXPECTED and not DISCOVER:
        return {"route": ("an entry in EXPECTED", "none")}
    rule, method = routes[route]
    url = _url(rule, world["ids"])
    got = {}
    for role in ORDER:
        got[role] = _answer(_call(world["clients"][role], method, url))
        db.session.rollback()
    if DISCOVER:
        print(f"\n{route:45} {url:50} " + " ".join(f"{r}={got[r]}" for r in ROLES))
        return {}
    return {
        role: (EXPECTED[route][role], got[role]) for role in ROLES if not _matches(EXPECTED[route][role], got[role])
    }


def test_every_page_and_file_answers_each_visitor_as_expected(app, world):
    wrong = {route: problems for route in READS if (problems := _check(app, world, route))}
    assert not wrong, "GET routes answering wrongly, (expected, got) per role:\n" + "\n".join(
        f"{route}: {problems}" for route, problems in wrong.items()
    )


@pytest.mark.parametrize("route", WRITES)
def test_every_action_answers_each_visitor_as_expected(app, world, route):
    wrong = _check(app, world, route)
    assert not wrong, f"{route}: (expected, got) per role: {wrong}"
