"""Flask extensions, created unbound and attached to an app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from booking.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# Page words marked with _() use the same catalogues as email (booking/translations).
babel = Babel()
# Limits are declared where they apply (the API blueprint); the store is set in init_limiter.
limiter = Limiter(key_func=get_remote_address)
