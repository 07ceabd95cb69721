"""Journey 3: a healthcare provider signs up, is verified by an admin and refers a patient (a draft
first, whose consent is confirmed on its own page); the practitioner accepts, books and completes
it with a structured outcome; the provider follows each step on the timeline and reads the
summary of their referrals."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.e2e.people import PASSWORD, make_admin, make_practitioner, sign_in, unique

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_provider_refers_a_patient_and_follows_the_referral_to_its_end(journey, new_journey, live_site):
    practitioner_name = f"Petra Practitioner {unique('p')}"
    practitioner_email, practitioner_id = make_practitioner(live_site, practitioner_name, conditions=["tmj"])
    admin_email = make_admin(live_site)
    provider_name = f"Dr Robin Referrer {unique('r')}"
    provider_email = f"{unique('robin')}@clinic.example"
    provider = journey
    page = provider.page

    # The provider signs up with the details an admin checks, and confirms the address.
    provider.goto("/account/signup", "sign up")
    page.get_by_label("Email address").fill(provider_email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("a healthcare provider").check()
    page.get_by_label("Your full name").fill(provider_name)
    page.get_by_label("Profession").fill("Dentist")
    page.get_by_label("Organization or practice").fill("Pearl Street Dental")
    page.get_by_label("Work phone").fill("+1 303 555 0142")
    page.get_by_label("Registration or licence number").fill("DDS-40417")
    provider.submit("Create account", "account created")
    provider.goto(urlparse(live_site.link_in_last_mail(provider_email, "/account/confirm/")).path, "confirmed")
    if "/account/login" in page.url:
        page.get_by_label("Email address").fill(provider_email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        provider.submit("Sign in", "signed in")

    # An admin checks the registration number and verifies the provider.
    admin = new_journey("admin")
    sign_in(admin, admin_email)
    admin.goto("/admin/providers", "provider queue")
    item = admin.page.locator(".queue-item", has_text=provider_email)
    assert "DDS-40417" in item.inner_text()
    with admin.page.expect_navigation():
        item.get_by_role("button", name=f"Verify {provider_name}").click()
    admin.check("provider verified")
    assert admin.page.locator(".queue-item", has_text=provider_email).count() == 0

    # The provider refers a patient from the practitioner's profile.
    provider.goto(f"/practitioners/{practitioner_id}", "practitioner profile")
    provider.click_link("Refer a patient", "referral form")
    page.get_by_label("Patient's full name").fill("Maria Quill")
    page.get_by_label("Patient's phone").fill("+1 303 555 0199")
    page.get_by_label("Temporomandibular joint (TMJ) disorders").check()
    page.get_by_label("Reason for referral").fill("Jaw pain and headaches despite a night guard.")
    provider.submit("Save as draft", "draft saved")
    referral_path = urlparse(page.url).path
    assert referral_path.startswith("/referrals/"), page.url

    # The patient's consent is confirmed on the draft's own page, then the draft is sent.
    page.get_by_label("The patient consented", exact=False).check()
    provider.submit("Confirm consent", "consent confirmed")
    assert "Confirmed by the referrer" in page.locator("main").inner_text()
    provider.click_link("Edit or send the draft", "draft form")
    provider.submit("Send referral", "referral sent")
    assert urlparse(page.url).path == referral_path

    # The practitioner opens it, accepts it, books the first appointment and completes it.
    practitioner = new_journey("practitioner")
    sign_in(practitioner, practitioner_email)
    practitioner.click_link("Referral #", "referral in the inbox")
    assert "Maria Quill" in practitioner.page.locator("main").inner_text()
    practitioner.submit("Accept", "accepted")
    # The first appointment has taken place (a referral is completed only after it).
    practitioner.page.get_by_label("Date and time of the first appointment").fill("2026-03-04T09:30")
    practitioner.submit("First appointment booked", "appointment booked")
    practitioner.page.get_by_label("Sessions attended").fill("6")
    practitioner.page.get_by_label("Pain at the first session (0–10)").fill("7")
    practitioner.page.get_by_label("Pain at the last session (0–10)").fill("2")
    practitioner.page.get_by_label("Patient's global impression of change").select_option("2")
    practitioner.page.get_by_label("Outcome for the referrer").fill("Six sessions; the jaw pain has eased.")
    practitioner.submit("Complete", "completed")

    # The provider sees every step on the timeline, and was told by email (without patient details).
    provider.goto(referral_path, "referral timeline")
    timeline = page.locator("ol.timeline").inner_text().lower()
    for step in ["received", "accepted", "progress", "completed"]:
        assert step in timeline, f"{step!r} missing from the timeline: {timeline}"
    assert "six sessions" in timeline
    notices = live_site.mail_to(provider_email)
    assert len(notices) >= 2
    assert all("Maria Quill" not in m.get_body(preferencelist=("plain",)).get_content() for m in notices)

    # The provider's summary: one referral, completed, pain down by 5, PGIC "much improved".
    provider.goto("/referrals/", "referrals list")
    provider.click_link("Your referrals at a glance", "referral summary")
    main = page.locator("main").inner_text()
    assert "100% (1 of 1)" in main
    assert "−5" in main
    assert page.locator("svg[role=img]").count() >= 2
    assert practitioner_name in page.locator("table.referral-summary-practitioners").inner_text()
