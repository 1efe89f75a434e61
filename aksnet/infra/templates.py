"""The one Jinja2 environment that renders aksnet's artifacts from the top-level ``templates/``.

The directory is found from the ``AKSNET_TEMPLATES`` environment variable when it is set, else
next to the package (``<repository>/templates``). Undefined variables are errors
(StrictUndefined), so a template never silently renders an empty value. Values that land in YAML
or JSON go through the ``json`` filter, which quotes them as JSON scalars (valid YAML too), so a
value can never change the document's structure.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from aksnet.errors import NotFound

log = logging.getLogger(__name__)

TEMPLATES_ENV = "AKSNET_TEMPLATES"
PACKAGED_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def templates_dir() -> Path:
    """The templates directory: $AKSNET_TEMPLATES if set, else the repository's templates/.

    A set but wrong $AKSNET_TEMPLATES is an error rather than a silent fallback, so a typo in it
    never renders other templates than the ones meant.
    """
    configured = os.environ.get(TEMPLATES_ENV)
    if configured:
        if Path(configured).is_dir():
            return Path(configured)
    elif PACKAGED_TEMPLATES.is_dir():
        return PACKAGED_TEMPLATES
    shown = repr(configured) if configured else "not set"
    raise NotFound(
        "templates directory",
        f"{TEMPLATES_ENV} is {shown} and {PACKAGED_TEMPLATES} "
        f"{'is not used' if configured else 'does not exist'}; set {TEMPLATES_ENV} to the "
        "directory that holds the aksnet templates",
    )


def environment() -> jinja2.Environment:
    """The shared environment for the current templates directory."""
    return _environment_for(templates_dir())


@lru_cache(maxsize=4)
def _environment_for(directory: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # YAML and JSON, not HTML: quoting is done by the json filter
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = to_json
    return env


def to_json(value: Any) -> str:
    """A value as compact JSON: a quoted scalar in YAML, or a whole JSON document."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing variable
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def render(template_name: str, /, **context: Any) -> str:
    """Render template_name with context (any names, "name" included); undefined names raise."""
    try:
        template = environment().get_template(template_name)
    except jinja2.TemplateNotFound as error:
        raise NotFound("template", f"{template_name} in {templates_dir()}") from error
    log.debug("rendering template %s", template_name)
    return template.render(**context)
