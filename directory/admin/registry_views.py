"""The condition taxonomy and the registry of certifying bodies and their credentials."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from directory.admin import taxonomy
from directory.admin.forms import (
    BodyForm,
    ConditionForm,
    CredentialLevelForm,
    MergeConditionForm,
    RenameConditionForm,
    with_unique_ids,
)
from directory.admin.views import bp
from directory.extensions import db
from directory.models import CertifyingBody, Condition, Credential
from directory.models.practitioners import practitioner_conditions
from directory.practitioners.lookups import all_conditions


def _render_conditions(add_form=None, row_forms: dict | None = None, status: int = 200):
    conditions = all_conditions()
    usage = dict(
        db.session.execute(
            select(practitioner_conditions.c.condition_id, func.count()).group_by(
                practitioner_conditions.c.condition_id
            )
        ).all()
    )
    row_forms = row_forms or {}
    rows = []
    for c in conditions:
        rename = with_unique_ids(
            row_forms.get(("rename", c.id)) or RenameConditionForm(formdata=None, name=c.name), f"n{c.id}"
        )
        merge = with_unique_ids(row_forms.get(("merge", c.id)) or MergeConditionForm(formdata=None), f"m{c.id}")
        merge.target.choices = [SelectChoice(o.id, o.name) for o in conditions if o.id != c.id]
        rows.append((c, usage.get(c.id, 0), rename, merge))
    return render_template(
        "admin/conditions.html", rows=rows, add_form=add_form or ConditionForm(formdata=None)
    ), status


@bp.get("/conditions")
def conditions():
    """The condition taxonomy: add, rename, merge."""
    return _render_conditions()


@bp.post("/conditions")
def add_condition():
    """Add a condition (it takes the next free search-index bit)."""
    form = ConditionForm()
    if not form.validate_on_submit():
        return _render_conditions(add_form=form, status=400)
    try:
        condition = taxonomy.add_condition(current_user, form.name.data, form.slug.data or "")
    except taxonomy.TaxonomyError as error:
        form.name.errors.append(str(error))
        db.session.rollback()
        return _render_conditions(add_form=form, status=400)
    db.session.commit()
    flash(f"“{condition.name}” added.", "success")
    return redirect(url_for("admin.conditions"), 303)


@bp.post("/conditions/<int:condition_id>/rename")
def rename_condition(condition_id: int):
    """Rename a condition (its slug stays, so links keep working)."""
    condition = db.get_or_404(Condition, condition_id)
    form = RenameConditionForm()
    if form.validate_on_submit():
        try:
            taxonomy.rename_condition(condition, current_user, form.name.data)
        except taxonomy.TaxonomyError as error:
            form.name.errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Renamed to “{condition.name}”.", "success")
            return redirect(url_for("admin.conditions"), 303)
    db.session.rollback()
    return _render_conditions(row_forms={("rename", condition_id): form}, status=400)


@bp.post("/conditions/<int:condition_id>/merge")
def merge_condition(condition_id: int):
    """Merge a condition into another: practitioners and referrals move to the target."""
    source = db.get_or_404(Condition, condition_id)
    form = MergeConditionForm()
    form.target.choices = [SelectChoice(c.id, c.name) for c in all_conditions() if c.id != source.id]
    if form.validate_on_submit():
        target = db.session.get(Condition, form.target.data)
        name = source.name
        try:
            counts = taxonomy.merge_condition(source, target, current_user)
        except taxonomy.TaxonomyError as error:
            form.target.errors.append(str(error))
        else:
            db.session.commit()
            flash(
                f"“{name}” merged into “{target.name}”: {counts['practitioners']} practitioners and "
                f"{counts['referrals']} referrals moved.",
                "success",
            )
            return redirect(url_for("admin.conditions"), 303)
    db.session.rollback()
    return _render_conditions(row_forms={("merge", condition_id): form}, status=400)


@bp.get("/bodies")
def bodies():
    """The registry of certifying bodies and the credentials each awards."""
    rows = db.session.execute(select(CertifyingBody).order_by(CertifyingBody.name)).scalars().all()
    return render_template("admin/bodies.html", bodies=rows)


@bp.route("/bodies/new", methods=["GET", "POST"])
def new_body():
    """Add a certifying body to the registry."""
    return _edit_body(None)


@bp.route("/bodies/<int:body_id>", methods=["GET", "POST"])
def edit_body(body_id: int):
    """Edit a certifying body; its credentials are listed and edited from here."""
    return _edit_body(db.get_or_404(CertifyingBody, body_id))


def _edit_body(body: CertifyingBody | None):
    form = BodyForm(obj=body)
    if form.validate_on_submit():
        try:
            body = taxonomy.save_body(current_user, body, form.data)
        except taxonomy.TaxonomyError as error:
            form.slug.errors.append(str(error))
            db.session.rollback()
        else:
            db.session.commit()
            flash(f"{body.name} saved.", "success")
            return redirect(url_for("admin.edit_body", body_id=body.id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/body_form.html", form=form, body=body, credential_form=CredentialLevelForm(formdata=None)
    ), status


@bp.route("/bodies/<int:body_id>/credentials/new", methods=["GET", "POST"])
def new_credential(body_id: int):
    """Add a credential level a body awards."""
    return _edit_credential(db.get_or_404(CertifyingBody, body_id), None)


@bp.route("/bodies/<int:body_id>/credentials/<int:credential_id>", methods=["GET", "POST"])
def edit_credential(body_id: int, credential_id: int):
    """Edit a credential level: code, name and what it requires."""
    credential = db.get_or_404(Credential, credential_id)
    if credential.body_id != body_id:
        abort(404)
    return _edit_credential(credential.body, credential)


def _edit_credential(body: CertifyingBody, credential: Credential | None):
    form = CredentialLevelForm(obj=credential)
    if form.validate_on_submit():
        try:
            credential = taxonomy.save_credential(current_user, body, credential, form.data)
        except taxonomy.TaxonomyError as error:
            form.code.errors.append(str(error))
            db.session.rollback()
        else:
            db.session.commit()
            flash(f"{credential.code} saved.", "success")
            return redirect(url_for("admin.edit_body", body_id=body.id), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/credential_form.html", form=form, body=body, credential=credential), status
