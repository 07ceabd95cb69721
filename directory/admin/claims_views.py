"""Admin: the list of screened phrases (/admin/claims) and the texts held for review (/admin/reviews)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from directory.admin.views import bp
from directory.audit import record_audit, snapshot
from directory.claims import highlight_flags, service
from directory.claims.forms import ApproveForm, ClaimPhraseForm, DeletePhraseForm, RejectForm
from directory.claims.screening import phrase_words
from directory.claims.texts import current_text, label
from directory.extensions import db
from directory.models import ClaimPhrase, HeldChange, ReviewStatus

REVIEWS_PER_PAGE = 50


def _phrase_clash(phrase: str, exclude: ClaimPhrase | None = None) -> bool:
    words = phrase_words(phrase)
    for other in db.session.execute(select(ClaimPhrase)).scalars():
        if other is not exclude and phrase_words(other.phrase) == words:
            return True
    return False


@bp.route("/claims", methods=["GET", "POST"])
def claims():
    """The phrases screened in every text patients read; add one."""
    form = ClaimPhraseForm()
    if form.validate_on_submit():
        if _phrase_clash(form.phrase.data):
            form.phrase.errors.append("That phrase is already on the list.")
        else:
            phrase = ClaimPhrase(phrase=form.phrase.data.strip(), explanation=form.explanation.data.strip())
            db.session.add(phrase)
            record_audit(current_user, "claims.phrase_added", phrase, after=snapshot(phrase, "phrase", "explanation"))
            db.session.commit()
            flash(f"“{phrase.phrase}” is screened from now on.", "success")
            return redirect(url_for("admin.claims"), 303)
    phrases = db.session.execute(select(ClaimPhrase).order_by(func.lower(ClaimPhrase.phrase))).scalars().all()
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/claims.html", form=form, phrases=phrases, delete_form=DeletePhraseForm(formdata=None)
    ), status


@bp.route("/claims/<int:phrase_id>", methods=["GET", "POST"])
def edit_claim(phrase_id: int):
    """Change a phrase or its explanation."""
    phrase = db.get_or_404(ClaimPhrase, phrase_id)
    form = ClaimPhraseForm(obj=phrase)
    if form.validate_on_submit():
        if _phrase_clash(form.phrase.data, exclude=phrase):
            form.phrase.errors.append("That phrase is already on the list.")
        else:
            before = snapshot(phrase, "phrase", "explanation")
            phrase.phrase, phrase.explanation = form.phrase.data.strip(), form.explanation.data.strip()
            record_audit(
                current_user,
                "claims.phrase_changed",
                phrase,
                before=before,
                after=snapshot(phrase, "phrase", "explanation"),
            )
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for("admin.claims"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/claim_form.html", form=form, phrase=phrase), status


@bp.post("/claims/<int:phrase_id>/delete")
def delete_claim(phrase_id: int):
    """Stop screening a phrase."""
    phrase = db.get_or_404(ClaimPhrase, phrase_id)
    form = DeletePhraseForm()
    if form.validate_on_submit():
        record_audit(current_user, "claims.phrase_removed", phrase, before=snapshot(phrase, "phrase", "explanation"))
        db.session.delete(phrase)
        db.session.commit()
        flash(f"“{phrase.phrase}” is no longer screened.", "success")
    return redirect(url_for("admin.claims"), 303)


@bp.get("/reviews")
def reviews():
    """Texts held by the screening, oldest first; those whose authors asked for review are marked."""
    page = request.args.get("page", 1, type=int) or 1
    query = (
        select(HeldChange)
        .where(HeldChange.status == ReviewStatus.PENDING)
        .order_by(HeldChange.created_at, HeldChange.id)
    )
    pagination = db.paginate(query, page=max(page, 1), per_page=REVIEWS_PER_PAGE, error_out=False)
    return render_template("admin/reviews.html", pagination=pagination)


def _review_page(change: HeldChange, reject_form=None, status: int = 200):
    practitioner = change.practitioner
    rows = [
        {
            "key": key,
            "label": label(key),
            "current": current_text(practitioner, key),
            "proposed": value,
            "flags": [f for f in change.flags if f["field"] == key],
        }
        for key, value in change.values.items()
    ]
    return render_template(
        "admin/review.html",
        change=change,
        rows=rows,
        approve_form=ApproveForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
    ), status


@bp.get("/reviews/<int:change_id>")
def review(change_id: int):
    """One held change: the public text beside the held one, with the flagged phrases marked."""
    return _review_page(db.get_or_404(HeldChange, change_id))


def _pending_or_redirect(change_id: int):
    change = db.get_or_404(HeldChange, change_id)
    if change.status != ReviewStatus.PENDING:
        flash("This change was already decided.", "warning")
        return None, redirect(url_for("admin.reviews"), 303)
    return change, None


@bp.post("/reviews/<int:change_id>/approve")
def approve_review(change_id: int):
    """The held text goes live; the practitioner is told."""
    change, done = _pending_or_redirect(change_id)
    if done:
        return done
    if not ApproveForm().validate_on_submit():
        return _review_page(change, status=400)
    skipped = service.approve(change, current_user)
    db.session.commit()
    note = f" ({len(skipped)} text(s) belonged to records deleted since.)" if skipped else ""
    flash(f"Approved: {change.practitioner.display_name}'s text is live.{note}", "success")
    return redirect(url_for("admin.reviews"), 303)


@bp.post("/reviews/<int:change_id>/reject")
def reject_review(change_id: int):
    """The held text is refused with a reason; the practitioner is told."""
    change, done = _pending_or_redirect(change_id)
    if done:
        return done
    form = RejectForm()
    if not form.validate_on_submit():
        return _review_page(change, reject_form=form, status=400)
    service.reject(change, current_user, form.reason.data.strip())
    db.session.commit()
    flash(f"Rejected: {change.practitioner.display_name} was asked to rephrase.", "success")
    return redirect(url_for("admin.reviews"), 303)


@bp.app_template_filter("highlight_flags")
def _highlight_flags(text: str, flags) -> Markup:
    """Jinja: `text|highlight_flags(flags)` marks the flagged phrases."""
    return highlight_flags(text, flags)


@bp.app_template_global("held_label")
def _held_label(key: str) -> str:
    """Jinja: what a held text's key is called ("About", "Location name")."""
    return label(key)
