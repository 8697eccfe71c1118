"""Log-in and log-out. Every other page requires a logged-in user (see ``require_login``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ledger.extensions import get_session, login_manager
from ledger.models import User
from ledger.services import sessions
from ledger.services.audit import record_failed_login
from ledger.services.users import authenticate

bp = Blueprint("auth", __name__)

#: Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = {"auth.login", "static"}


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in on this device")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative ``//evil``.

    And only printable ASCII without spaces, as every link the app makes is (percent-encoded): a line break
    (``?next=/%0D%0ASet-Cookie:...``) would split the Location header, which Werkzeug refuses with an error.
    """
    if not target or not all("!" <= ch <= "~" for ch in target.strip()):
        return None
    target = target.replace("\\", "/").strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(get_session(), form.email.data, form.password.data)
        if user is not None:
            sessions.start(get_session(), user)
            get_session().commit()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        form.password.errors.append("That email and password do not match an account.")
        record_failed_login(get_session(), form.email.data or "", request.remote_addr, "web")
        get_session().commit()
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end(get_session(), current_user)
    get_session().commit()
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """The user of the open log-in session whose key the cookie carries (see ``ledger.services.sessions``).

    Both the session cookie and the remember-me cookie carry that key, so log-out and a password change,
    which end the row, log out every copy of either cookie on its next request. Anything else (a cookie
    from before server-side sessions, a bare user id) is refused: one new log-in, nothing worse.
    """
    return sessions.user_for(get_session(), key)


def require_login() -> object | None:
    """Log-in required everywhere but the log-in page (API routes use bearer tokens instead)."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.path.startswith("/api/"):
        return None
    if request.endpoint is None:
        return None  # unknown URL: let the 404 handler answer
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see the alliance's books."
    app.register_blueprint(bp)
    app.before_request(require_login)
