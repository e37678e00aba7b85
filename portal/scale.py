"""A provincial-scale data set for benchmarks (`manage.py seed_scale`, issue 8).

Seeded people are numbered 0..n-1 and everything about person i is derived from i
(ID number, name, county, archive, education, credits), so a second run finds
what exists and adds only what is missing. The marker of a seeded person is the
archive's e-mail address `p<i>@seed.invalid` (RFC 2606: never a real address).

Rows are written without model instances: PostgreSQL COPY (psycopg2
`copy_expert`), elsewhere multi-row INSERTs (portal.bulk). Primary keys are
reserved from the table's sequence first, so dependent rows can point at them
without reading anything back. The yearly credit totals are computed in SQL from
the records (`INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE`).
Every seeded user has the same password (hashed once, the encoded hash reused).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.identity import (
    IdType,
    encrypt_id_number,
    id_lookup_hash,
    mask_id_number,
    mod11_2_check_char,
)
from accounts.models import User
from changes.models import ChangeRecord
from collection.models import (
    PROVINCIAL_LEVEL_CODE,
    Archive,
    Award,
    Degree,
    Division,
    DivisionLevel,
    Education,
    EducationLevel,
    Ethnicity,
    HighEndTalent,
    PoliticalStatus,
    ProfessionalQualification,
)
from education.models import CreditClaim, CreditRecord, CreditYearTotal, Enrolment, Institution
from portal.bulk import bulk_insert, copy_line, copy_rows
from transfers.models import TransferIn, TransferOut

SEED_DOMAIN = "seed.invalid"
SEED_PASSWORD = "Seed#Scale2026"  # noqa: S105 - the documented password of the seeded benchmark accounts
SEED_INSTITUTION_PREFIX = "SEED-"
RECORD_PREFIX = "SEED-"
YEARS_BACK = 5
SQLITE_MAX_ACCOUNTANTS = 5000
PEOPLE_CHUNK = 20_000
RECORD_CHUNK_PEOPLE = 25_000

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅飞鹏辉燕玲婷雪琳晨阳欣怡佳宇浩然子涵思源俊"
_EMPLOYERS = ("贵州省{c}财政局", "{c}人民医院", "贵州{c}建设投资有限公司", "{c}第一中学", "{c}农村信用合作联社",
              "贵州{c}会计师事务所有限公司", "{c}供电局", "{c}税务局", "贵州{c}酒业有限公司", "{c}自来水公司")
_SCHOOLS = ("贵州财经大学", "贵州大学", "贵州师范大学", "贵州商学院", "铜仁学院", "遵义师范学院", "贵州民族大学",
            "黔南民族师范学院", "六盘水师范学院", "安顺学院")
_MAJORS = ("会计学", "财务管理", "审计学", "金融学", "经济学", "工商管理", "税收学", "会计电算化")
_COURSES = ("企业会计准则解读", "政府会计制度", "管理会计实务", "内部控制规范", "税收政策更新", "职业道德与法规",
            "财务共享与数字化转型", "预算管理一体化", "新收入准则案例", "资产评估基础")
_ETHNIC_WEIGHTS = (("汉族", 60), ("苗族", 12), ("布依族", 8), ("土家族", 5), ("侗族", 5), ("彝族", 3), ("仡佬族", 3),
                   ("水族", 2), ("回族", 2))
_POLITICAL_WEIGHTS = (("群众", 60), ("中共党员", 25), ("共青团员", 15))


# --- who is who -----------------------------------------------------------------------------


def is_draft(i: int) -> bool:
    """About 1 in 100 seeded people is still filling in the wizard (采集中)."""
    return i % 100 == 99


def has_claim(i: int) -> bool:
    return not is_draft(i) and i % 50 == 1


def has_transfer_out(i: int) -> bool:
    return not is_draft(i) and i % 200 == 3


def has_transfer_in(i: int) -> bool:
    return not is_draft(i) and i % 500 == 7


def has_change(i: int) -> bool:
    return not is_draft(i) and i % 20 == 5


def is_typical(i: int) -> bool:
    """Collected, no claim, transfer or change: the people the page benchmark logs in as."""
    return not (is_draft(i) or has_claim(i) or has_transfer_out(i) or has_transfer_in(i) or has_change(i))


def transfer_out_status(i: int) -> str:
    return ("withdrawn", "pending_receipt", "received")[(i // 200) % 3]


def seed_email(i: int) -> str:
    return f"p{i:07d}@{SEED_DOMAIN}"


def index_of(email: str) -> int:
    return int(email[1:email.index("@")])


def seed_years() -> list[int]:
    this_year = timezone.localdate().year
    return list(range(this_year - YEARS_BACK + 1, this_year + 1))


# --- writing rows ----------------------------------------------------------------------------


class _RowStream:
    """A file-like object COPY reads from while the rows are still being generated, so
    Python (generating) and PostgreSQL (storing) work side by side on two cores."""

    def __init__(self, rows: Iterable[Sequence]):
        self.rows = iter(rows)
        self.count = 0

    def read(self, size: int = -1) -> str:
        parts, length = [], 0
        for row in self.rows:
            line = copy_line(row)
            parts.append(line)
            length += len(line)
            self.count += 1
            if 0 < size <= length:
                break
        return "".join(parts)

    readline = read


class RowWriter:
    """COPY on PostgreSQL, multi-row INSERTs elsewhere; explicit primary keys from the sequence."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def reserve_ids(self, model, n: int) -> list[int]:
        if n == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               [table, n])
                return [r[0] for r in cursor.fetchall()]
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            start = cursor.fetchone()[0] + 1
            return list(range(start, start + n))

    def insert(self, model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
        if not self.postgres:
            rows = list(rows)
            return bulk_insert(model, fields, rows)
        stream = _RowStream(rows)
        copy_rows(model, fields, stream)
        return stream.count


# --- the seeder ---------------------------------------------------------------------------------


@dataclass
class SeedReport:
    people_before: int = 0
    people_created: int = 0
    records_before: int = 0
    records_created: int = 0
    totals_rows: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


def _weighted(pairs, lookup: dict) -> list:
    out = []
    for name, weight in pairs:
        if name in lookup:
            out.extend([lookup[name]] * weight)
    return out or list(lookup.values())[:1]


class Seeder:
    """Builds (or tops up) the data set; `log` receives progress lines."""

    def __init__(self, *, log: Callable[[str], None] = lambda _msg: None):
        self.log = log
        self.writer = RowWriter()
        self.report = SeedReport()
        self.now = timezone.now()
        self.years = seed_years()
        counties = list(Division.objects.filter(level=DivisionLevel.COUNTY).order_by("code"))
        if len(counties) != 88:
            raise RuntimeError("the 88 counties are missing: run `manage.py load_reference_data` first")
        self.counties = [(d.pk, d.code, d.name) for d in counties]
        self.province = Division.objects.get(code=PROVINCIAL_LEVEL_CODE)
        ethnicities = dict(Ethnicity.objects.values_list("name", "pk"))
        self.ethnicities = _weighted(_ETHNIC_WEIGHTS, ethnicities)
        political = dict(PoliticalStatus.objects.values_list("name", "pk"))
        self.political = _weighted(_POLITICAL_WEIGHTS, political)
        self.levels = dict(EducationLevel.objects.values_list("name", "pk"))
        self.degrees = dict(Degree.objects.values_list("name", "pk"))
        self.password_hash = make_password(SEED_PASSWORD)  # once: argon2 for 300,000 people would take hours

    # -- derived facts of person i ----------------------------------------------------------

    def id_number(self, i: int) -> str:
        area = self.counties[i % 88][1]
        j = i // 88
        birth = dt.date(1975, 1, 1) + dt.timedelta(days=(j // 2) % 10_000)
        seq = 900 + ((j // 20_000) * 2 + j % 2)
        if seq > 999:
            raise ValueError("more seeded people than the ID-number range holds")
        body = f"{area}{birth:%Y%m%d}{seq:03d}"
        return body + mod11_2_check_char(body)

    def division_id(self, i: int) -> int:
        if i % 33 == 0:  # about 3% 省本级
            return self.province.pk
        return self.counties[(i * 7 + i // 88) % 88][0]

    @staticmethod
    def name(i: int) -> str:
        given = _GIVEN[(i // len(_SURNAMES)) % len(_GIVEN)]
        if i % 3:
            given += _GIVEN[(i // 7) % len(_GIVEN)]
        return _SURNAMES[i % len(_SURNAMES)] + given

    def moment(self, i: int, year: int | None = None) -> dt.datetime:
        year = year or self.years[i % len(self.years)]
        return dt.datetime(year, 1 + i % 12, 1 + i % 28, 8 + i % 10, i % 60, tzinfo=dt.UTC)

    # -- what exists -------------------------------------------------------------------------

    def existing_people(self) -> dict[int, tuple[int, str]]:
        """index → (user id, archive status) of the seeded people already in the database."""
        rows = Archive.objects.filter(email__endswith="@" + SEED_DOMAIN).values_list("email", "user_id", "status")
        return {index_of(email): (user_id, status) for email, user_id, status in rows.iterator(chunk_size=20_000)}

    def institutions(self) -> dict[int, list[int]]:
        """The seeded institutions (created or updated through the service): year → institution ids."""
        from education.services import institution_save

        years = self.years
        by_year: dict[int, list[int]] = {y: [] for y in years}
        for n in range(1, 13):
            if n <= 8:
                filed = years
            elif n <= 10:
                filed = years[-3:]
            else:
                filed = years[-1:]
            saved = institution_save(
                code=f"{SEED_INSTITUTION_PREFIX}{n:02d}", name=f"贵州会计继续教育网校{n:02d}",
                platform_url=f"https://seed-{n:02d}.invalid/learn", contact_name="王老师",
                contact_phone=f"0851-8600{n:04d}", years=filed,
            )
            for y in filed:
                by_year[y].append(saved.institution.pk)
        return by_year

    # -- people ------------------------------------------------------------------------------

    def seed_people(self, n: int) -> dict[int, tuple[int, str]]:
        t0 = time.perf_counter()
        existing = self.existing_people()
        self.report.people_before = len(existing)
        missing = [i for i in range(n) if i not in existing]
        self.log(f"people: {len(existing)} seeded already, {len(missing)} to create")
        by_year = self.institutions()
        for start in range(0, len(missing), PEOPLE_CHUNK):
            chunk = missing[start:start + PEOPLE_CHUNK]
            with transaction.atomic():
                created = self._people_chunk(chunk, by_year)
            existing.update(created)
            self.report.people_created += len(chunk)
            self.log(f"  people {start + len(chunk):,}/{len(missing):,} ({time.perf_counter() - t0:.1f} s)")
        self.report.timings["people"] = time.perf_counter() - t0
        return existing

    def _people_chunk(self, chunk: list[int], by_year: dict[int, list[int]]) -> dict[int, tuple[int, str]]:
        w = self.writer
        user_ids = dict(zip(chunk, w.reserve_ids(User, len(chunk)), strict=True))
        archive_ids = dict(zip(chunk, w.reserve_ids(Archive, len(chunk)), strict=True))
        collected = [i for i in chunk if not is_draft(i)]

        numbers = {i: self.id_number(i) for i in chunk}
        birth_years = {i: int(numbers[i][6:10]) for i in chunk}
        users = []
        for i in chunk:
            number = numbers[i]
            joined = self.moment(i)
            received = has_transfer_out(i) and transfer_out_status(i) == "received"
            lookup = id_lookup_hash(number)
            users.append((
                user_ids[i], self.password_hash, None, False, "id:" + lookup, self.name(i),
                IdType.RESIDENT_ID_CARD, encrypt_id_number(number), lookup, mask_id_number(number),
                "male" if int(number[16]) % 2 else "female",
                dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])), "中国", f"+86198{i:08d}",
                True, i % 3 == 0, joined + dt.timedelta(days=400) if received else None, False, True, joined,
            ))
        self.report.add("users", w.insert(User, [
            "id", "password", "last_login", "is_superuser", "username", "name", "id_type", "id_number_encrypted",
            "id_hash", "id_number_masked", "gender", "birth_date", "nationality", "mobile", "works_in_guizhou",
            "holds_qualification", "transferred_out_at", "is_staff", "is_active", "date_joined"], users))

        archives = []
        for i in chunk:
            joined = self.moment(i)
            county = self.counties[(i * 7 + i // 88) % 88]
            if is_draft(i):
                archives.append((
                    archive_ids[i], user_ids[i], "draft", None, None, joined, False, False, False, False, "{}", 2,
                    joined, joined, self.ethnicities[i % len(self.ethnicities)], None, seed_email(i),
                    "", "", "", None, None, None, "", "", None, "", "", "", False,
                ))
                continue
            division = self.division_id(i)
            employment = ("accounting",) * 17 + ("non_accounting",) * 2 + ("unemployed",)
            status = "student" if i % 100 == 50 else employment[i % 20]
            employer = _EMPLOYERS[i % len(_EMPLOYERS)].format(c=county[2]) if status in (
                "accounting", "non_accounting") else ""
            collected_at = joined + dt.timedelta(days=3)
            archives.append((
                archive_ids[i], user_ids[i], "collected", f"52{collected_at:%Y}{archive_ids[i]:08d}", collected_at,
                joined, True, True, True, True, "{}", 6, joined, collected_at,
                self.ethnicities[i % len(self.ethnicities)], self.political[i % len(self.political)], seed_email(i),
                "seed/photo.jpg", "seed/id_front.jpg", "seed/id_back.jpg", i % 40 == 0, i % 60 == 0, False,
                ("none", "none", "none", "5", "4")[i % 5], status, division, employer,
                _SCHOOLS[i % len(_SCHOOLS)] if status == "student" else "",
                "seed/student_card.jpg" if status == "student" else "", division == self.province.pk,
            ))
        self.report.add("archives", w.insert(Archive, [
            "id", "user", "status", "archive_number", "collected_at", "notice_accepted_at", "personal_done",
            "education_done", "professional_done", "work_done", "step_drafts", "version", "created_at", "updated_at",
            "ethnicity", "political_status", "email", "photo", "id_card_front", "id_card_back", "is_cpa",
            "is_tax_agent", "is_asset_appraiser", "abacus_level", "employment_status", "division", "employer",
            "school", "student_card", "provincial_declaration"], archives))

        bachelor, master, college = (self.levels.get("大学本科"), self.levels.get("研究生"),
                                     self.levels.get("大学专科"))
        bachelor = bachelor or next(iter(self.levels.values()))
        degree_b, degree_none = self.degrees.get("学士"), self.degrees.get("无")
        degree_b = degree_b or next(iter(self.degrees.values()))
        educations = []
        for i in collected:
            birth_year = birth_years[i]
            level = college if (i % 4 == 0 and college) else bachelor
            degree = (degree_none or degree_b) if level == college else degree_b
            start = dt.date(birth_year + 18, 9, 1)
            educations.append((archive_ids[i], "full_time", level, degree, _SCHOOLS[i % len(_SCHOOLS)],
                               _MAJORS[i % len(_MAJORS)], start, dt.date(birth_year + 22, 7, 1)))
            if i % 10 < 3:
                educations.append((archive_ids[i], "part_time", master or bachelor, self.degrees.get("硕士", degree_b),
                                   _SCHOOLS[(i + 3) % len(_SCHOOLS)], _MAJORS[(i + 1) % len(_MAJORS)],
                                   dt.date(birth_year + 26, 9, 1), dt.date(birth_year + 29, 7, 1)))
        self.report.add("educations", w.insert(Education, [
            "archive", "mode", "level", "degree", "school", "major", "start_date", "graduation_date"], educations))

        qualifications = []
        for i in collected:
            birth_year = birth_years[i]
            count = 2 if i % 10 == 0 else (1 if i % 10 < 6 else 0)
            for q in range(count):
                qualifications.append((
                    archive_ids[i], "accounting" if q == 0 else ("audit", "economics", "statistics")[i % 3],
                    ("junior", "intermediate", "senior")[(i + q) % 3] if q == 0 else "junior",
                    "exam" if i % 7 else "review", dt.date(birth_year + 24 + q * 3, 5 + q, 20),
                    f"{birth_year + 24 + q * 3}5200{i:08d}{q}",
                ))
        self.report.add("qualifications", w.insert(ProfessionalQualification, [
            "archive", "qualification_type", "level", "method", "obtained_on", "certificate_number"],
            qualifications))

        awards = [(archive_ids[i], "全省会计工作先进个人", "provincial", dt.date(self.years[0], 12, 1), "贵州省财政厅",
                   "", "") for i in collected if i % 97 == 0]
        self.report.add("awards", w.insert(Award, [
            "archive", "content", "level", "awarded_on", "issuer", "remark", "other_credit_info"], awards))
        talents = [(archive_ids[i], "high_end", self.years[0], "第三期", "in_training", None)
                   for i in collected if i % 997 == 0]
        self.report.add("talents", w.insert(HighEndTalent, [
            "archive", "talent_type", "selected_year", "batch", "status", "graduation_year"], talents))

        enrolments = []
        for i in collected:
            for year in self.years:
                institution = self.enrolled_institution(i, year, by_year)
                enrolments.append((user_ids[i], institution, year, self.now))
        self.report.add("enrolments", w.insert(Enrolment, ["user", "institution", "year", "created_at"],
                                               enrolments))

        self._claims(collected, user_ids)
        self._transfers_and_changes(collected, user_ids)
        return {i: (user_ids[i], "draft" if is_draft(i) else "collected") for i in chunk}

    def enrolled_institution(self, i: int, year: int, by_year: dict[int, list[int]]) -> int:
        choices = by_year[year]
        return choices[(i * 31 + year) % len(choices)]

    def _claims(self, collected: list[int], user_ids: dict[int, int]) -> None:
        w = self.writer
        people = [i for i in collected if has_claim(i)]
        statuses = {i: ("pending", "rejected", "withdrawn", "approved")[(i // 50) % 4] for i in people}
        approved = [i for i in people if statuses[i] == "approved"]
        record_ids = dict(zip(approved, w.reserve_ids(CreditRecord, len(approved)), strict=True))
        year = self.years[-2] if len(self.years) > 1 else self.years[-1]
        credits = Decimal("20.0")
        records = [(record_ids[i], user_ids[i], "claim", None, f"{RECORD_PREFIX}CLAIM-{i}", year, "professional",
                    credits, "参加会计类专业会议", dt.date(year, 6, 15), None, self.moment(i, year)) for i in approved]
        self.report.add("credit records (claims)", w.insert(CreditRecord, [
            "id", "user", "source", "institution", "record_id", "year", "category", "credits", "course",
            "completed_at", "batch", "created_at"], records))
        claims = []
        for i in people:
            status = statuses[i]
            created = self.moment(i, year)
            decided = created + dt.timedelta(days=5) if status in ("approved", "rejected") else None
            claims.append((
                user_ids[i], year, "conference", 2, "参加贵州省会计学会年会（两天）", "seed/claim.jpg",
                credits, status,
                "证明材料不清晰" if status == "rejected" else "", record_ids.get(i), None, created, decided,
            ))
        self.report.add("claims", w.insert(CreditClaim, [
            "user", "year", "activity", "days", "details", "evidence", "credits", "status", "reason",
            "credit_record", "reviewed_by", "created_at", "decided_at"], claims))

    def _transfers_and_changes(self, collected: list[int], user_ids: dict[int, int]) -> None:
        w = self.writer
        outs = []
        for i in collected:
            if not has_transfer_out(i):
                continue
            status = transfer_out_status(i)
            created = self.moment(i) + dt.timedelta(days=300)
            outs.append((
                user_ids[i], ("51", "53", "50", "44", "33")[i % 5], "work", "四川省成都市某某会计师事务所",
                "seed/transfer.jpg", status, f"{RECORD_PREFIX}OUT-{i}", created + dt.timedelta(days=1), "", created,
                created + dt.timedelta(days=2) if status == "withdrawn" else None,
                created + dt.timedelta(days=100) if status == "received" else None,
            ))
        self.report.add("transfers out", w.insert(TransferOut, [
            "user", "to_province", "reason", "destination", "evidence", "status", "platform_ref",
            "platform_status_at", "sync_error", "created_at", "withdrawn_at", "received_at"], outs))
        ins = [(f"{RECORD_PREFIX}IN-{i}", user_ids[i], ("51", "53", "43")[i % 3], False, self.moment(i))
               for i in collected if has_transfer_in(i)]
        self.report.add("transfers in", w.insert(TransferIn, [
            "platform_ref", "user", "from_province", "reopened", "created_at"], ins))
        changes = [(user_ids[i], "work", json.dumps([{"field": "employer", "label": "工作单位",
                                                       "old": "贵州某某有限公司", "new": "贵州某某集团有限公司"}],
                                                     ensure_ascii=False),
                    self.moment(i) + dt.timedelta(days=200), "10.52.0.1") for i in collected if has_change(i)]
        self.report.add("change records", w.insert(ChangeRecord, [
            "user", "item", "changes", "created_at", "ip_address"], changes))

    # -- credit records ----------------------------------------------------------------------

    def seeded_record_counts(self) -> dict[int, int]:
        """user id → how many institution records of the seed it has."""
        if not Institution.objects.filter(code__startswith=SEED_INSTITUTION_PREFIX).exists():
            return {}
        rows = (CreditRecord.objects.filter(source="institution", institution__code__startswith=SEED_INSTITUTION_PREFIX)
                .values_list("user_id").order_by().annotate(n=Count("pk")))
        return dict(rows)

    def seed_records(self, target: int, people: dict[int, tuple[int, str]]) -> int:
        """Top the institution credit records of the seeded collected people up to `target`."""
        t0 = time.perf_counter()
        collected = sorted(i for i, (_uid, status) in people.items() if status == "collected")
        have = self.seeded_record_counts()
        before = sum(have.values())
        self.report.records_before = before
        if not collected:
            self.report.timings["credit records"] = time.perf_counter() - t0
            return 0
        per, extra = divmod(target, len(collected))
        plan = []  # (i, user id, first k, last k + 1)
        for rank, i in enumerate(collected):
            uid = people[i][0]
            want = per + (1 if rank < extra else 0)
            if have.get(uid, 0) < want:
                plan.append((i, uid, have.get(uid, 0), want))
        todo = sum(b - a for _i, _u, a, b in plan)
        self.log(f"credit records: {before:,} seeded already, {todo:,} to create (target {target:,})")
        by_year = self.institutions()
        created = 0
        for start in range(0, len(plan), RECORD_CHUNK_PEOPLE):
            part = plan[start:start + RECORD_CHUNK_PEOPLE]
            with transaction.atomic():
                created += self.writer.insert(CreditRecord, [
                    "user", "source", "institution", "record_id", "year", "category", "credits", "course",
                    "completed_at", "batch", "created_at"], self._record_rows(part, by_year))
            self.log(f"  credit records {created:,}/{todo:,} ({time.perf_counter() - t0:.1f} s)")
        self.report.records_created = created
        self.report.add("credit records", created)
        self.report.timings["credit records"] = time.perf_counter() - t0
        return created

    def _record_rows(self, plan, by_year):
        years = self.years
        ny = len(years)
        for i, uid, first, last in plan:
            for k in range(first, last):
                year = years[(k + i) % ny]
                public = (k // ny) % 2 == 0
                base = 30 if public else 60
                credits = Decimal(base - (8 if (i + k) % 9 == 0 else 0)) + Decimal((i * 7 + k) % 5) / 2
                done = dt.date(year, 1 + (i + k) % 12, 1 + (i * 3 + k) % 28)
                yield (uid, "institution", self.enrolled_institution(i, year, by_year), f"{RECORD_PREFIX}{i}-{k}",
                       year, "public" if public else "professional", credits, _COURSES[(i + k) % len(_COURSES)],
                       done, None, dt.datetime.combine(done, dt.time(20, 0), tzinfo=dt.UTC))

    # -- yearly totals -----------------------------------------------------------------------

    def seed_totals(self) -> int:
        """Every seeded person's yearly totals recomputed from all of their records, in one statement."""
        t0 = time.perf_counter()
        q = connection.ops.quote_name
        totals, records, archives = (q(CreditYearTotal._meta.db_table), q(CreditRecord._meta.db_table),
                                     q(Archive._meta.db_table))
        now = connection.ops.adapt_datetimefield_value(self.now)
        sql = f"""
            INSERT INTO {totals} (user_id, year, public_credits, professional_credits, total, updated_at)
            SELECT r.user_id, r.year,
                   SUM(CASE WHEN r.category = 'public' THEN r.credits ELSE 0 END),
                   SUM(CASE WHEN r.category = 'professional' THEN r.credits ELSE 0 END),
                   SUM(r.credits), %s
            FROM {records} r JOIN {archives} a ON a.user_id = r.user_id
            WHERE a.email LIKE %s
            GROUP BY r.user_id, r.year
            ON CONFLICT (user_id, year) DO UPDATE SET
                public_credits = excluded.public_credits, professional_credits = excluded.professional_credits,
                total = excluded.total, updated_at = excluded.updated_at
        """  # noqa: S608 - only our own table names are formatted in
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [now, f"%@{SEED_DOMAIN}"])
            rows = cursor.rowcount
        self.report.totals_rows = rows
        self.report.timings["yearly totals"] = time.perf_counter() - t0
        self.log(f"yearly totals: {rows:,} rows computed in SQL ({time.perf_counter() - t0:.1f} s)")
        return rows

    def analyze(self) -> None:
        if not self.writer.postgres:
            return
        t0 = time.perf_counter()
        models = (User, Archive, Education, ProfessionalQualification, Award, HighEndTalent, Enrolment,
                  CreditRecord, CreditYearTotal, CreditClaim, TransferOut, TransferIn, ChangeRecord)
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.report.timings["analyze"] = time.perf_counter() - t0


def seed_scale(*, accountants: int, credit_records: int, log: Callable[[str], None] = print) -> SeedReport:
    """Create or top up the seeded data set to `accountants` people and `credit_records` institution records."""
    t0 = time.perf_counter()
    seeder = Seeder(log=log)
    seeder.report.timings["setup (one password hash)"] = time.perf_counter() - t0
    people = seeder.seed_people(accountants)
    created = seeder.seed_records(credit_records, people)
    if created or seeder.report.people_created:
        seeder.seed_totals()
    seeder.analyze()
    seeder.report.timings["total"] = time.perf_counter() - t0
    return seeder.report


def seeded_people(*, typical: bool | None = None, draft: bool = False, limit: int | None = None) -> list[int]:
    """User ids of seeded people, lowest index first: drafts, typical collected people, or all."""
    rows = Archive.objects.filter(email__endswith="@" + SEED_DOMAIN).values_list("email", "user_id")
    out = []
    for email, user_id in sorted(rows, key=lambda r: index_of(r[0])):
        i = index_of(email)
        if draft and not is_draft(i):
            continue
        if typical and not is_typical(i):
            continue
        out.append(user_id)
        if limit and len(out) >= limit:
            break
    return out
