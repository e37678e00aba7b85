"""The selects over reference tables read their options in one plain query
(portal.forms.ReferenceChoiceField): Django's default streams them with a server-side
cursor on PostgreSQL, three round trips (DECLARE ... WITH HOLD, FETCH, CLOSE) per select."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext

from collection.forms import EducationForm, PersonalForm, WorkForm
from collection.models import Archive, Division, DivisionLevel, Ethnicity
from portal.forms import ReferenceChoiceField
from transfers.forms import TransferInConfirmForm

SELECTS = [
    (PersonalForm, True, ["ethnicity", "political_status"]),
    (WorkForm, True, ["prefecture"]),
    (EducationForm, False, ["level", "degree"]),
    (TransferInConfirmForm, False, ["prefecture"]),
]


@pytest.fixture
def no_streaming(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"{self.model.__name__}: options streamed with .iterator()")

    monkeypatch.setattr(QuerySet, "iterator", refuse)


@pytest.mark.parametrize(("form_class", "needs_archive", "names"), SELECTS, ids=[s[0].__name__ for s in SELECTS])
def test_reference_selects_render_every_option_from_one_plain_query(
        form_class, needs_archive, names, reference_data, accountant, no_streaming):
    form = form_class(archive=Archive.objects.create(user=accountant)) if needs_archive else form_class()
    for name in names:
        field = form.fields[name]
        assert isinstance(field, ReferenceChoiceField)
        expected = field.queryset.count()
        assert expected > 1
        with CaptureQueriesContext(connection) as queries:
            html = str(form[name])
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert not queries[0]["sql"].lstrip().upper().startswith("DECLARE")
        assert html.count("<option") == expected + 1  # and 请选择


def test_the_options_are_the_table_in_its_order_and_a_choice_still_validates(reference_data, accountant,
                                                                            no_streaming):
    form = PersonalForm(archive=Archive.objects.create(user=accountant))
    options = [label for value, label in form.fields["ethnicity"].choices if value != ""]
    assert options == [str(e) for e in Ethnicity.objects.all()]
    han = Ethnicity.objects.get(name="汉族")
    assert form.fields["ethnicity"].clean(str(han.pk)) == han
    prefecture = Division.objects.filter(level=DivisionLevel.PREFECTURE).first()
    assert TransferInConfirmForm().fields["prefecture"].clean(str(prefecture.pk)) == prefecture
