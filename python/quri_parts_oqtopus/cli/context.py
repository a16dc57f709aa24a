"""What every command works with: its arguments, the configuration, the HTTP client, redaction."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from functools import cached_property
from pathlib import Path

from quri_parts_oqtopus._http import OqtopusHttpClient
from quri_parts_oqtopus.backend import OqtopusConfig
from quri_parts_oqtopus.backend.base import client_of
from quri_parts_oqtopus.backend.job import OqtopusJobBackendBase
from quri_parts_oqtopus.cli import render
from quri_parts_oqtopus.cli.errors import UsageError

__all__ = ["DEFAULT_CONFIG_PATH", "PROG", "Context", "redact", "resolve_config"]

PROG = "oqtopus"
DEFAULT_CONFIG_PATH = "~/.oqtopus"
#: The ways to configure the CLI, for the messages that say none was found.
CONFIG_WAYS = (
    "set OQTOPUS_URL and OQTOPUS_API_TOKEN, give --config FILE [--section NAME],"
    f" write url= and api_token= under [default] in {DEFAULT_CONFIG_PATH},"
    " or give --url URL --token TOKEN"
)
#: Tokens at least this long are redacted wherever they occur; shorter ones only standing alone,
#: not next to one of _WORD_CHARS (letters, digits and what tokens are made of).
_LONG_TOKEN = 8
_WORD_CHARS = r"[\w.~+/-]"


def resolve_config(
    url: str | None, token: str | None, path: str | None, section: str | None
) -> OqtopusConfig:
    """``--url``/``--token``, else ``--config``/``--section``, else what the backends use.

    Unless the configuration sets ``connect_retries``, a server that cannot be reached is
    reported at once (one line, exit 3): someone is waiting at the terminal. Other
    failures are repeated as configured.

    Raises:
        UsageError: If only one of ``--url`` and ``--token`` is given, or nothing
            configures the CLI (the message names what is missing and the ways).
        ValueError: If the configuration file, section or a key is missing.

    """
    if url is not None or token is not None:
        if url is None or token is None:
            raise UsageError("--url and --token go together: give both, or neither")
        config = OqtopusConfig.resolve(OqtopusConfig(url, token))
    elif path is not None or section is not None:
        chosen = OqtopusConfig.from_file(section or "default", path or DEFAULT_CONFIG_PATH)
        config = OqtopusConfig.resolve(chosen)
    else:
        _check_some_config()
        config = OqtopusConfig.resolve(None)
    if config.connect_retries is None:
        config = config.with_transport(connect_retries=0)
    return config


def _check_some_config() -> None:
    """Refuse, naming what is missing, when neither the environment nor the file configures."""
    env_url, env_token = os.getenv("OQTOPUS_URL"), os.getenv("OQTOPUS_API_TOKEN")
    if (env_url and env_token) or Path(DEFAULT_CONFIG_PATH).expanduser().is_file():
        return
    if env_url:
        raise UsageError(
            "OQTOPUS_URL is set but OQTOPUS_API_TOKEN is not: export OQTOPUS_API_TOKEN=<your"
            f" token> (or give --url URL --token TOKEN, or --config FILE, or {DEFAULT_CONFIG_PATH})"
        )
    if env_token:
        raise UsageError(
            "OQTOPUS_API_TOKEN is set but OQTOPUS_URL is not: export OQTOPUS_URL=<the API's"
            f" URL> (or give --url URL --token TOKEN, or --config FILE, or {DEFAULT_CONFIG_PATH})"
        )
    raise UsageError(f"no OQTOPUS configuration found: {CONFIG_WAYS}")


def redact(text: str, tokens: set[str | None]) -> str:
    """``text`` with each token replaced by ``***``.

    A token of 8 characters or more is replaced wherever it occurs; a shorter one only
    where it stands alone (not inside a word or a longer token), so that a token ``x``
    hides ``token x`` but leaves ``Max`` alone.
    """
    for token in sorted(filter(None, tokens), key=len, reverse=True):
        if len(token) >= _LONG_TOKEN:
            text = text.replace(token, "***")
        else:
            alone = rf"(?<!{_WORD_CHARS}){re.escape(token)}(?!{_WORD_CHARS})"
            text = re.sub(alone, "***", text)
    return text


class Context:
    """What every command gets: its arguments, the output, and the configuration on demand."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = render.Output(as_json=bool(getattr(args, "json", False)))

    @cached_property
    def config(self) -> OqtopusConfig:
        a = self.args
        return resolve_config(
            getattr(a, "url", None),
            getattr(a, "token", None),
            getattr(a, "config", None),
            getattr(a, "section", None),
        )

    @cached_property
    def client(self) -> OqtopusHttpClient:
        return OqtopusHttpClient(self.config)

    @cached_property
    def jobs(self) -> OqtopusJobBackendBase:
        """The job API (listing, status, cancel, delete) the commands go through."""
        return OqtopusJobBackendBase(self.config)

    def redact(self, text: str) -> str:
        """``text`` with every token this command may know replaced by ``***``."""
        tokens = {getattr(self.args, "token", None), os.environ.get("OQTOPUS_API_TOKEN")}
        if "config" in self.__dict__:  # resolved: its token may come from a file
            tokens.add(self.config.api_token)
        return redact(text, tokens)

    def command_line(self, *words: str) -> str:
        """The shell command that runs ``oqtopus WORDS`` with this command's configuration.

        A token given with ``--token`` is never repeated: it shows as ``TOKEN``.
        """
        a = self.args
        options: list[str] = []
        if getattr(a, "url", None) is not None:
            options += ["--url", a.url, "--token", "TOKEN"]
        for name in ("config", "section"):
            if getattr(a, name, None) is not None:
                options += [f"--{name}", getattr(a, name)]
        return " ".join([PROG, *(shlex.quote(word) for word in (*options, *words))])

    def close(self) -> None:
        """Close the HTTP client's connections, if the command opened any."""
        if "client" in self.__dict__:
            self.client.close()
        if "jobs" in self.__dict__:
            try:
                api = client_of(self.jobs)
            except ValueError:  # the configuration made no client: nothing to close
                return
            if isinstance(api, OqtopusHttpClient):
                api.close()
