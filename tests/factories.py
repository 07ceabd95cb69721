"""factory_boy factories for the models, saved through the app's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from directory.extensions import db
from directory.models import (
    Certification,
    CertifyingBody,
    Condition,
    PracticeLocation,
    Practitioner,
    Role,
    User,
    VerificationStatus,
)
from directory.models.base import utcnow


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


def condition(slug: str) -> Condition:
    """A reference condition by slug."""
    return db.session.execute(db.select(Condition).filter_by(slug=slug)).scalar_one()


def body(slug: str) -> CertifyingBody:
    """A reference certifying body by slug."""
    return db.session.execute(db.select(CertifyingBody).filter_by(slug=slug)).scalar_one()


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    role = Role.PRACTITIONER
    name = factory.Faker("name")
    confirmed_at = factory.LazyFunction(utcnow)


class PractitionerFactory(BaseFactory):
    """A published practitioner with one location at (latitude, longitude).

    `locations=[(lat, lon), ...]` gives several; `conditions=["tmj", ...]` takes slugs.
    """

    class Meta:
        model = Practitioner

    email = factory.Sequence(lambda n: f"practitioner{n}@example.org")
    display_name = factory.Faker("name")
    practice_name = factory.LazyAttribute(lambda o: f"{o.display_name.split()[-1]} Craniosacral")
    published = True
    accepting_new_patients = True
    session_minutes = 60
    languages = "English"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        lat = kwargs.pop("latitude", 40.0150)
        lon = kwargs.pop("longitude", -105.2705)
        points = kwargs.pop("locations", None) or [(lat, lon)]
        # Look the conditions up before the practitioner exists: a query autoflushes, and a
        # half-built practitioner already linked to its (persistent) user must not be flushed.
        conditions = [condition(s) if isinstance(s, str) else s for s in kwargs.pop("conditions", [])]
        obj = model_class(*args, **kwargs)
        obj.conditions = conditions
        obj.locations = [PracticeLocation(city="Boulder", country="US", latitude=la, longitude=lo) for la, lo in points]
        db.session.add(obj)
        db.session.commit()
        return obj


class CertificationFactory(BaseFactory):
    class Meta:
        model = Certification

    practitioner = factory.SubFactory(PractitionerFactory)
    body = factory.LazyFunction(lambda: body("upledger"))
    credential = "CST-T"
    status = VerificationStatus.PENDING
