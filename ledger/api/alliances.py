"""Alliances and what the coordinator manages in them: partners, categories, members, agreement versions."""

from __future__ import annotations

from flask import jsonify, url_for
from sqlalchemy import select

from ledger.api import serializers
from ledger.api.auth import current_user, membership_or_404
from ledger.api.blueprint import bp
from ledger.api.bodies import json_body
from ledger.domain.errors import NotFound
from ledger.extensions import get_session
from ledger.models import AgreementVersion, Category, Membership, Partner
from ledger.queries import members_of, membership_in, memberships_of, partners_of, row_in
from ledger.services import agreements, alliances


def created(body: dict, endpoint: str, **values):
    """201 with the new object and where to read it again."""
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(endpoint, **values)
    return response


@bp.get("/alliances")
def list_alliances():
    return jsonify({"alliances": [serializers.alliance(m.alliance, m)
                                  for m in memberships_of(get_session(), current_user())]})


@bp.post("/alliances")
def create_alliance():
    session = get_session()
    row = alliances.create_alliance(session, current_user(), json_body())
    session.commit()
    membership = membership_in(session, current_user(), row.id)
    return created(serializers.alliance(row, membership), "api.get_alliance", alliance_id=row.id)


@bp.get("/alliances/<id:alliance_id>")
def get_alliance(alliance_id: int):
    membership = membership_or_404(alliance_id)
    return jsonify(serializers.alliance(membership.alliance, membership))


@bp.patch("/alliances/<id:alliance_id>")
def update_alliance(alliance_id: int):
    """Change the alliance's settings (its time zone); a field left out keeps its value."""
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = alliances.update_alliance(session, current_user(), membership, json_body())
    session.commit()
    return jsonify(serializers.alliance(row, membership))


@bp.get("/alliances/<id:alliance_id>/partners")
def list_partners(alliance_id: int):
    membership = membership_or_404(alliance_id)
    return jsonify({"partners": [serializers.partner(p) for p in partners_of(get_session(), membership.alliance)]})


@bp.post("/alliances/<id:alliance_id>/partners")
def create_partner(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = alliances.add_partner(session, current_user(), membership, json_body())
    session.commit()
    return created(serializers.partner(row), "api.get_partner", alliance_id=alliance_id, partner_id=row.id)


@bp.get("/alliances/<id:alliance_id>/partners/<id:partner_id>")
def get_partner(alliance_id: int, partner_id: int):
    membership = membership_or_404(alliance_id)
    row = row_in(get_session(), Partner, membership.alliance, partner_id)
    if row is None:
        raise NotFound("There is no partner with that id in this alliance.")
    return jsonify(serializers.partner(row))


@bp.get("/alliances/<id:alliance_id>/categories")
def list_categories(alliance_id: int):
    membership = membership_or_404(alliance_id)
    rows = get_session().scalars(select(Category).where(Category.alliance_id == membership.alliance_id)
                                 .order_by(Category.name))
    return jsonify({"categories": [serializers.category(c) for c in rows]})


@bp.post("/alliances/<id:alliance_id>/categories")
def create_category(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = alliances.add_category(session, current_user(), membership, json_body())
    session.commit()
    return created(serializers.category(row), "api.get_category", alliance_id=alliance_id, category_id=row.id)


@bp.get("/alliances/<id:alliance_id>/categories/<id:category_id>")
def get_category(alliance_id: int, category_id: int):
    membership = membership_or_404(alliance_id)
    row = row_in(get_session(), Category, membership.alliance, category_id)
    if row is None:
        raise NotFound("There is no category with that id in this alliance.")
    return jsonify(serializers.category(row))


@bp.get("/alliances/<id:alliance_id>/members")
def list_members(alliance_id: int):
    membership = membership_or_404(alliance_id)
    return jsonify({"members": [serializers.member(m) for m in members_of(get_session(), membership.alliance)]})


@bp.post("/alliances/<id:alliance_id>/members")
def create_member(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = alliances.add_member(session, current_user(), membership, json_body())
    session.commit()
    return created(serializers.member(row), "api.get_member", alliance_id=alliance_id, member_id=row.id)


@bp.get("/alliances/<id:alliance_id>/members/<id:member_id>")
def get_member(alliance_id: int, member_id: int):
    membership = membership_or_404(alliance_id)
    row = row_in(get_session(), Membership, membership.alliance, member_id)
    if row is None:
        raise NotFound("There is no member with that id in this alliance.")
    return jsonify(serializers.member(row))


@bp.get("/alliances/<id:alliance_id>/agreement/versions")
def list_versions(alliance_id: int):
    membership = membership_or_404(alliance_id)
    versions = agreements.versions_of(get_session(), membership.alliance)
    return jsonify({"versions": [serializers.agreement_version(v) for v in versions]})


@bp.post("/alliances/<id:alliance_id>/agreement/versions")
def create_version(alliance_id: int):
    session = get_session()
    membership = membership_or_404(alliance_id)
    row = agreements.create_version(session, current_user(), membership, json_body())
    session.commit()
    return created(serializers.agreement_version(row), "api.get_version", alliance_id=alliance_id,
                   version_id=row.id)


@bp.get("/alliances/<id:alliance_id>/agreement/versions/<id:version_id>")
def get_version(alliance_id: int, version_id: int):
    membership = membership_or_404(alliance_id)
    row = row_in(get_session(), AgreementVersion, membership.alliance, version_id)
    if row is None:
        raise NotFound("There is no agreement version with that id in this alliance.")
    return jsonify(serializers.agreement_version(row))
