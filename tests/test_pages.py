"""Public pages render, without JavaScript, with the patient guidance."""

import re

import pytest

from tests.factories import PractitionerFactory


def test_home_page_offers_search_and_guidance(client):
    html = client.get("/").get_data(as_text=True)
    assert "ZIP code, postcode or town" in html
    assert "Skip to content" in html
    assert "Temporomandibular joint (TMJ) disorders" in html


def test_search_page_lists_results_with_distance_in_miles(client):
    p = PractitionerFactory(display_name="Tess Tmj", conditions=["tmj"], latitude=40.02, longitude=-105.27)
    response = client.get("/search?near=80302&radius=10&unit=mi&condition=tmj")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tess Tmj" in html and f"/practitioners/{p.id}" in html
    assert " mi</strong> away" in html


def test_search_page_says_when_a_place_is_unknown(client):
    response = client.get("/search?near=Atlantis-under-the-sea")
    assert response.status_code == 400
    assert "could not find the place" in response.get_data(as_text=True)


def test_search_page_offers_a_wider_radius_when_nothing_is_found(client):
    html = client.get("/search?near=80302&radius=5&unit=mi").get_data(as_text=True)
    assert "0 practitioners" in html
    assert "Search within 10 miles instead" in html


def test_profile_shows_guidance_and_focus_not_cures(client):
    p = PractitionerFactory(conditions=["migraine-headache"], bio="I work gently.")
    html = client.get(f"/practitioners/{p.id}?lat=40.0&lon=-105.27&unit=km").get_data(as_text=True)
    assert "Migraines and headaches" in html
    assert "fully clothed" in html and "30 to 60 minutes" in html
    assert "healthcare provider" in html
    assert "km from your search" in html
    assert "cure" not in html.replace("treats or cures", "").replace("treat or cure", "")


def test_unpublished_profile_is_not_found(client):
    p = PractitionerFactory(published=False)
    assert client.get(f"/practitioners/{p.id}").status_code == 404


def test_static_assets_come_from_packages(client):
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


def test_search_form_checkboxes_send_values_the_search_accepts(client):
    """The HTML form's "verified" and "accepting" checkboxes must send a value the search understands."""
    from directory.models import VerificationStatus
    from tests.factories import CertificationFactory

    verified = PractitionerFactory(display_name="Vera Verified", latitude=40.02, longitude=-105.27)
    CertificationFactory(practitioner=verified, status=VerificationStatus.VERIFIED)
    PractitionerFactory(display_name="Pete Pending", latitude=40.02, longitude=-105.27)
    form = client.get("/search").get_data(as_text=True)
    tag = lambda html, name: re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)  # noqa: E731
    assert 'value="1"' in tag(form, "verified") and "checked" not in tag(form, "verified")
    assert 'value="1"' in tag(form, "accepting")
    response = client.get("/search?near=80302&radius=10&unit=mi&verified=1&accepting=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Vera Verified" in html and "Pete Pending" not in html
    assert "checked" in tag(html, "verified") and "checked" in tag(html, "accepting")


def test_a_yes_no_parameter_with_stray_whitespace_is_refused(client):
    response = client.get("/api/v1/practitioners?lat=40&lon=-105&verified=%09")
    assert response.status_code == 400
    assert response.get_json() == {"error": "verified must be 1 or 0"}


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_home_page_introduces_craniosacral_therapy_honestly(client):
    """A patient reads what CST is, what a session is like, what the research says and how to choose."""
    html = client.get("/").get_data(as_text=True)
    main = _words(html.split('<main id="main"', 1)[1].split("</main>", 1)[0])
    for point in (
        "gentle, hands-on approach",
        "very light touch",
        "1970s by John Upledger, an osteopathic physician",
        "migraines and headaches",
        "chronic neck and back pain",
        "fibromyalgia",
        "TMJ",
        "stress and tension",
        "quiet setting",
        "fully clothed",
        "treatment table",
        "30 to 60 minutes",
        "weekly, others monthly",
        "Research on craniosacral therapy is limited and mixed",
        "does not replace medical care",
        "Talk with your own healthcare provider first",
        "Comprehensive training",
        "Certification by a reputable body",
        "recommendation from a healthcare provider",
    ):
        assert point in main, point
    assert 'href="/how-we-verify"' in html
    assert not re.search(r"\b(cures?|cured|treats?|treated|heals?)\b", main, re.I)


@pytest.mark.parametrize("path", ["/", "/search", "/about/choosing-a-practitioner", "/how-we-verify"])
def test_no_patient_page_claims_that_cst_cures_or_treats(client, path):
    """Only disclaimers may use the words: "not a claim that ... treats or cures", "no promise ... treat or cure"."""
    words = _words(client.get(path).get_data(as_text=True))
    for disclaimer in ("treats or cures", "treat or cure"):
        words = words.replace(disclaimer, "")
    assert not re.search(r"\b(cures?|treats)\b", words, re.I)


def test_home_page_filters_go_with_the_search(client):
    html = client.get("/").get_data(as_text=True)
    form = html.split('id="search-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="condition"' in form and 'name="verified"' in form and "<summary" in form
