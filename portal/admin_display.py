"""Read-only admin pages without links a reviewer cannot follow.

The admin shows a read-only foreign key as a link to the related object's page
whenever that model is registered, whatever the user may open: a county
reviewer looking at an archive got links to 民族 / 行政区划 pages that answer 403.
`as_text` swaps such fields for callables that show the related object's text.
"""

from __future__ import annotations

from django.contrib import admin


def _text_of(name: str, label):
    @admin.display(description=label)
    def show(obj):
        value = getattr(obj, name)
        return None if value is None else str(value)

    show.__name__ = f"{name}_text"
    return show


def as_text(model, names: tuple) -> tuple:
    """`names` with every foreign key of `model` replaced by a callable showing its text
    (use the same tuple for `fields` and `readonly_fields`)."""
    out = []
    for name in names:
        field = next((f for f in model._meta.get_fields() if f.name == name), None) if isinstance(name, str) else None
        out.append(_text_of(name, field.verbose_name) if field is not None and field.many_to_one else name)
    return tuple(out)
