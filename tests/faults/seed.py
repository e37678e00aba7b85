"""Test data for the fault tests, built through the real services inside the stack's
own configuration (run by `manage.py shell -c`, see Stack.python); each function
prints one JSON line for the test to read."""

from __future__ import annotations

import json

from django.utils import timezone


def _person(name: str):
    """An account with a random (valid) ID number and mobile: every shell starts the factories' counters
    afresh, so their sequences would repeat across calls."""
    import datetime as dt
    import random

    from tests.factories import AccountFactory, make_id_number

    birth = dt.date(1960, 1, 1) + dt.timedelta(days=random.randrange(40 * 365))
    return AccountFactory(name=name, id_number=make_id_number(birth=birth.strftime("%Y%m%d"),
                                                              seq=random.randrange(500)),
                          mobile=f"+86137{random.randrange(10**8):08d}")


def _emit(value) -> None:
    print("SEED " + json.dumps(value, ensure_ascii=False))


def learners(*, count: int, code: str = "FLT01", prefix: str = "学员") -> None:
    """An institution filed for last year with an API key, and `count` collected people enrolled with it."""
    from education import services
    from education.models import Institution
    from tests.education.helpers import collect, make_institution

    year = timezone.localdate().year - 1
    institution = Institution.objects.filter(code=code).first() or make_institution(code, years=(year,),
                                                                                    name=f"网校{code}")
    key, secret = services.institution_api_key_issue(institution=institution)
    people = []
    for n in range(count):
        user = _person(f"{prefix}{n}")
        collect(user)
        services.enrolment_create(user=user, institution=institution, year=year)
        people.append({"pk": user.pk, "name": user.name, "id_number": user.plain_id_number})
    _emit({"key_id": key.key_id, "secret": secret, "year": year, "institution": institution.pk, "people": people})


def drafts(*, count: int, collected: bool = False, prefix: str = "采集") -> None:
    """People whose archive is complete and waiting for 提交 (or, with collected, submitted)."""
    from collection import services as collection
    from tests.education.helpers import collect

    people = []
    for n in range(count):
        user = _person(f"{prefix}{n}")
        if collected:
            collect(user)
        else:
            _complete_draft(user, collection)
        people.append({"pk": user.pk, "name": user.name, "id_number": user.plain_id_number,
                       "password": user.plain_password, "mobile": str(user.mobile)})
    _emit(people)


def _complete_draft(user, collection) -> None:
    import datetime as dt

    from collection.models import Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
    from portal.images import DOCUMENT, PHOTO, clean_image
    from tests.images import document_upload, photo_upload

    archive = collection.archive_start(user=user)
    for field, upload, rule in (("photo", photo_upload, PHOTO), ("id_card_front", document_upload, DOCUMENT),
                                ("id_card_back", document_upload, DOCUMENT)):
        collection.archive_upload_replace(archive=archive, field=field, content=clean_image(upload(), rule=rule))
    collection.archive_save_personal(archive=archive, ethnicity=Ethnicity.objects.get(name="汉族"),
                                     political_status=PoliticalStatus.objects.get(name="群众"),
                                     email="draft@example.com")
    collection.archive_save_education(archive=archive, full_time={
        "level": EducationLevel.objects.get(name="大学本科"), "degree": Degree.objects.get(name="学士"),
        "school": "贵州财经大学", "major": "会计学", "start_date": dt.date(2008, 9, 1),
        "graduation_date": dt.date(2012, 7, 1)}, part_time=None)
    collection.archive_save_professional(
        archive=archive,
        certification={"is_cpa": False, "is_tax_agent": False, "is_asset_appraiser": False, "abacus_level": "none"},
        qualifications=[], talents=[], awards=[])
    collection.archive_save_work(archive=archive, employment_status="accounting",
                                 division=Division.objects.get(code="520102"), employer="贵州某某会计师事务所",
                                 school="", provincial_declaration=False)


def incoming(*, name: str, id_number: str, mobile: str) -> None:
    """A person transferring in, seeded on the (local) national platform as another province would."""
    from django.core.management import call_command

    from transfers.models import PlatformRecord

    call_command("national_platform", "incoming", "--name", name, "--id-number", id_number, "--mobile", mobile,
                 "--from-province", "四川省")
    _emit({"ref": PlatformRecord.objects.filter(name=name).latest("pk").ref})


def sweep() -> None:
    """The periodic sweeps, run now with no age threshold (as beat would after its interval)."""
    from accounts.sms import sms_outbox_sweep
    from education.credits import credit_batch_sweep

    _emit({"sms": sms_outbox_sweep(older_than_seconds=0), "batches": credit_batch_sweep(older_than_seconds=0)})


def read(output: str):
    """The JSON a seed function printed (shell output may have log lines around it)."""
    line = next(line for line in reversed(output.splitlines()) if line.startswith("SEED "))
    return json.loads(line[5:])
