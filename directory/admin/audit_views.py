"""The audit page: read-only, filtered and paginated. No route edits or deletes entries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from directory.admin.audit_records import label_records
from directory.admin.forms import AuditFilterForm
from directory.admin.views import bp
from directory.extensions import db
from directory.models import AuditLog

PER_PAGE = 50


def _choices(column) -> list[SelectChoice]:
    values = db.session.execute(select(column).distinct().where(column != "").order_by(column)).scalars().all()
    return [SelectChoice("", "Any")] + [SelectChoice(v) for v in values]


@bp.get("/audit")
def audit():
    """Every admin action, newest first, naming people and records with links; filtered by actor, action,
    record and date range."""
    form = AuditFilterForm(request.args)
    form.action.choices = _choices(AuditLog.action)
    form.object_type.choices = _choices(AuditLog.object_type)
    query = select(AuditLog).options(selectinload(AuditLog.actor)).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    status = 200
    if form.validate():
        if form.actor.data:
            query = query.where(AuditLog.actor_email.icontains(form.actor.data.strip(), autoescape=True))
        if form.action.data:
            query = query.where(AuditLog.action == form.action.data)
        if form.object_type.data:
            query = query.where(AuditLog.object_type == form.object_type.data)
        if form.object_id.data:
            query = query.where(AuditLog.object_id == form.object_id.data.strip())
        if form.date_from.data:
            query = query.where(AuditLog.at >= datetime.combine(form.date_from.data, time.min, UTC))
        if form.date_to.data:
            query = query.where(AuditLog.at < datetime.combine(form.date_to.data + timedelta(days=1), time.min, UTC))
    else:
        status = 400
        query = query.where(False)
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    labels = label_records(page.items)
    return render_template("admin/audit.html", form=form, page=page, args=args, labels=labels), status
