"""Admin: concerns reported by the public (/admin/concerns) and corrections left unanswered (/admin/corrections)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from directory.admin.views import bp
from directory.extensions import db
from directory.feedback import service
from directory.feedback.fields import label
from directory.feedback.forms import CloseConcernForm
from directory.models import Concern, Correction, CorrectionStatus

PER_PAGE = 50


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


@bp.get("/concerns")
def concerns():
    """Open concerns oldest first, then the closed ones, newest first."""
    query = select(Concern).order_by(
        Concern.closed_at.is_not(None), Concern.closed_at.desc(), Concern.created_at, Concern.id
    )
    pagination = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/concerns.html", pagination=pagination, close_form=CloseConcernForm(formdata=None))


@bp.post("/concerns/<int:concern_id>/close")
def close_concern(concern_id: int):
    """Close a concern with a note of what was done."""
    concern = db.get_or_404(Concern, concern_id)
    form = CloseConcernForm()
    if concern.closed_at is not None:
        flash("This concern was already closed.", "info")
    elif not form.validate_on_submit():
        flash("Say what was done before closing the concern.", "danger")
    else:
        service.close_concern(concern, current_user, form.note.data)
        db.session.commit()
        flash("Closed.", "success")
    return redirect(url_for("admin.concerns", _anchor=f"concern-{concern.id}"), 303)


@bp.get("/corrections")
def corrections():
    """Corrections the practitioner has not answered in 14 days, oldest first."""
    query = (
        select(Correction)
        .where(Correction.status == CorrectionStatus.OPEN, Correction.escalated_at.is_not(None))
        .order_by(Correction.created_at, Correction.id)
    )
    pagination = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/corrections.html", pagination=pagination, label=label)
