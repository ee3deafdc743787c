"""Rate limits declared on views, enforced by each application's own Flask-Limiter.

Flask-Limiter keeps its settings (``RATELIMIT_ENABLED``, the storage, the headers) on
the extension object, and ``init_app`` overwrites them: with one module-level
``Limiter``, a second ``create_app`` in the same process took over the first app's
storage and switches (and handed a disabled switch on to every later app through
``config.setdefault``). So views declare their limits here, and ``init_app`` gives
each app a ``Limiter`` of its own, built from that app's configuration, and wraps the
app's view functions with the declared limits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from limits.storage import Storage

View = TypeVar("View", bound=Callable[..., Any])

_EXTENSION = "newsletter.limiter"


class RouteLimits:
    def __init__(self) -> None:
        # By the view's qualified name, innermost decorator first.
        self._declared: dict[str, list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}

    def limit(self, *args: Any, **kwargs: Any) -> Callable[[View], View]:
        """Declare a limit (``Limiter.limit``'s arguments); the view itself is unchanged
        until an app is built."""

        def declare(view: View) -> View:
            self._declared.setdefault(get_qualified_name(view), []).append((args, kwargs))
            return view

        return declare

    def init_app(self, app: Flask) -> None:
        """Give ``app`` its own limiter; call once its blueprints are registered."""
        limiter = Limiter(key_func=get_remote_address)
        limiter.init_app(app)
        app.extensions[_EXTENSION] = limiter
        for endpoint, view in list(app.view_functions.items()):
            limited: Callable[..., Any] = view
            for args, kwargs in self._declared.get(get_qualified_name(view), []):
                limited = limiter.limit(*args, **kwargs)(limited)
            app.view_functions[endpoint] = limited

    @property
    def storage(self) -> Storage:
        """The current app's limiter storage (counters shared by its workers)."""
        limiter: Limiter = current_app.extensions[_EXTENSION]
        return limiter.storage
