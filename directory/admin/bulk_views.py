"""Bulk verification: upload a body's member register, preview the changes, apply them."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from directory.admin import bulk
from directory.admin.forms import BulkApplyForm, BulkRegisterForm
from directory.admin.views import bp
from directory.csv_io import CsvImportError, decode_csv
from directory.extensions import db
from directory.models import CertifyingBody


def _register_form() -> BulkRegisterForm:
    form = BulkRegisterForm()
    form.body.choices = [
        SelectChoice(b.id, b.name)
        for b in db.session.execute(select(CertifyingBody).order_by(CertifyingBody.name)).scalars()
    ]
    return form


@bp.get("/credentials/bulk")
def bulk_register():
    """The upload form for a certifying body's member register."""
    return render_template("admin/bulk_upload.html", form=_register_form())


@bp.post("/credentials/bulk")
def bulk_preview():
    """Check the uploaded register and show what applying it would change (nothing is written)."""
    form = _register_form()
    if not form.validate_on_submit():
        return render_template("admin/bulk_upload.html", form=form), 400
    body = db.get_or_404(CertifyingBody, form.body.data)
    upload = form.register.data
    try:
        text = decode_csv(upload.read())
        plan = bulk.plan_register(text, body)
    except CsvImportError as error:
        form.register.errors.append(f"Line {error.line}: {error.reason}. Nothing was changed.")
        return render_template("admin/bulk_upload.html", form=form), 400
    token = bulk.store_upload(text, body.id, upload.filename or "", current_user.id)
    return render_template(
        "admin/bulk_preview.html",
        plan=plan,
        body=body,
        filename=upload.filename,
        apply_form=BulkApplyForm(formdata=None, token=token),
    )


@bp.post("/credentials/bulk/apply")
def bulk_apply():
    """Apply a previewed register: the credentials it confirms become verified."""
    form = BulkApplyForm()
    if not form.validate_on_submit():
        flash("That preview is not valid any more; please upload the register again.", "danger")
        return render_template("admin/bulk_upload.html", form=_register_form()), 400
    try:
        stored = bulk.load_upload(form.token.data)
    except bulk.RegisterNotFound:
        flash("That register was applied already or has expired; please upload it again.", "warning")
        return render_template("admin/bulk_upload.html", form=_register_form()), 409
    body = db.get_or_404(CertifyingBody, stored["body_id"])
    try:
        plan = bulk.apply_register(stored["text"], body, current_user, stored.get("filename", ""))
    except CsvImportError as error:  # the reference data changed since the preview
        db.session.rollback()
        flash(f"Line {error.line}: {error.reason}. Nothing was changed.", "danger")
        return render_template("admin/bulk_upload.html", form=_register_form()), 400
    db.session.commit()
    bulk.discard_upload(form.token.data)
    flash(
        f"{len(plan.changes)} credential(s) verified from the {body.name} register; "
        f"{len(plan.not_on_file)} register entries are not on file here.",
        "success",
    )
    return redirect(url_for("admin.credentials"), 303)
