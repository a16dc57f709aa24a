"""An OQTOPUS-compatible server on loopback that runs jobs on the qulacs simulator.

``LocalServer`` runs it in a child process (scripts, tests); ``oqtopus-local serve``
runs it in the foreground; ``create_app`` builds the ASGI app itself.
"""

from .process import LocalServer
from .settings import ServerSettings, default_data_dir

__all__ = ["LocalServer", "ServerSettings", "create_app", "default_data_dir"]


def __getattr__(name: str) -> object:
    # The web stack loads only for those who build the app themselves.
    if name == "create_app":
        from .app import create_app  # noqa: PLC0415

        return create_app
    raise AttributeError(name)
