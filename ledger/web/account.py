"""The user's own page: API tokens (created, shown once, revoked) and changing the password."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField

from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session
from ledger.services.audit import failed_logins_of
from ledger.services.users import MIN_PASSWORD, change_password, create_token, revoke_token, tokens_of
from ledger.web.common import me, put_errors

bp = Blueprint("account", __name__)


class TokenForm(FlaskForm):
    action = HiddenField(default="token")
    name = StringField("Token name", description="What the token is for, e.g. \u201cmonthly export script\u201d.")


class PasswordForm(FlaskForm):
    action = HiddenField(default="password")
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password", description=f"At least {MIN_PASSWORD} characters; not a common "
                                                              "password, not your email address.")
    confirm = PasswordField("New password again")


def _render(token_form=None, password_form=None, plain_token: str | None = None, status: int = 200):
    response = make_response(render_template(
        "account/index.html", tokens=tokens_of(get_session(), me()), plain_token=plain_token,
        failed_logins=failed_logins_of(get_session(), me()),
        token_form=token_form or TokenForm(formdata=None),
        password_form=password_form or PasswordForm(formdata=None)), status)
    response.headers["Cache-Control"] = "no-store"  # the page may carry a fresh token
    return response


@bp.route("/account", methods=["GET", "POST"])
def index():
    if request.method == "GET":
        return _render()
    session = get_session()
    if request.form.get("action") == "password":
        form = PasswordForm()
        form.validate_on_submit()
        try:
            if form.new_password.data != form.confirm.data:
                raise InvalidInput.at("confirm", "The two new passwords are not the same.")
            change_password(session, me(), form.current_password.data, form.new_password.data)
        except InvalidInput as exc:
            session.rollback()
            put_errors(form, exc.errors)
            return _render(password_form=form, status=422)
        session.commit()
        # This session (and its remember-me cookie) goes on; every other one has ended (services.sessions).
        flash("Your password is changed. Every other session of yours has been logged out and every API "
              "token revoked: create new tokens for your scripts.", "success")
        return redirect(url_for("account.index"))
    form = TokenForm()
    form.validate_on_submit()
    try:
        token, plain = create_token(session, me(), form.name.data)
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render(token_form=form, status=422)
    session.commit()
    flash(f"Created the token \u201c{token.name}\u201d. Copy it now: it is shown only this once.", "success")
    return _render(plain_token=plain)


@bp.route("/account/tokens/<id:token_id>/revoke", methods=["POST"])
def revoke(token_id: int):
    session = get_session()
    token = revoke_token(session, me(), token_id)
    session.commit()
    flash(f"Revoked the token \u201c{token.name}\u201d; it no longer works.", "success")
    return redirect(url_for("account.index"))
