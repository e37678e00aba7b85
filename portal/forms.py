"""Form pieces shared by the apps."""

from __future__ import annotations

from django import forms
from django.forms.models import ModelChoiceIterator


class ReferenceChoiceIterator(ModelChoiceIterator):
    """The options of a small reference table (民族, 政治面貌, 学历, 市州 ...) read in one query.

    Django's iterator streams the options with `.iterator()`, which on PostgreSQL is
    a server-side cursor: DECLARE ... WITH HOLD, FETCH and CLOSE, three round trips
    for a few dozen rows, on every render of every select.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:  # the form's own copy of the queryset: one plain SELECT
            yield self.choice(obj)


class ReferenceChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField over a small reference table (see ReferenceChoiceIterator)."""

    iterator = ReferenceChoiceIterator
