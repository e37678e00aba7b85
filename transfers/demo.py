"""A plausible archive for a record coming from another province (the `local` platform
only: `manage.py national_platform incoming`, demo data and tests)."""

from __future__ import annotations

import base64
import datetime as dt
import io

from PIL import Image, ImageDraw


def _jpeg(size: tuple[int, int], colour: tuple[int, int, int], label: str) -> str:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([w // 12, h // 12, w - w // 12, h - h // 12], outline=(90, 90, 90), width=4)
    draw.ellipse([w // 3, h // 6, 2 * w // 3, h // 2], fill=(200, 200, 205))
    draw.text((w // 10, h - h // 6), label, fill=(40, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def demo_payload(*, credit_years: int = 2, today: dt.date | None = None) -> dict:
    """Education (本科/学士), one qualification (初级会计, 考试), the ID images, and
    `credit_years` complete years of credits (30 公需 + 60 专业) before this one."""
    today = today or dt.date.today()
    credits = []
    for year in range(today.year - credit_years, today.year):
        credits.append({"year": year, "category": "public", "credits": "30.0", "course": "公需科目网络培训",
                        "completed_at": f"{year}-06-30"})
        credits.append({"year": year, "category": "professional", "credits": "60.0", "course": "会计专业科目培训",
                        "completed_at": f"{year}-11-30"})
    return {
        "archive_number": "",
        "ethnicity": "01",
        "political_status": "13",
        "email": "",
        "photo": _jpeg((358, 441), (225, 235, 245), "PHOTO"),
        "id_card_front": _jpeg((856, 540), (235, 240, 235), "ID FRONT"),
        "id_card_back": _jpeg((856, 540), (240, 235, 230), "ID BACK"),
        "is_cpa": False,
        "is_tax_agent": False,
        "is_asset_appraiser": False,
        "abacus_level": "none",
        "employment_status": "accounting",
        "employer": "",
        "educations": [{
            "mode": "full_time", "level": "21", "degree": "4", "school": "西南财经大学", "major": "会计学",
            "start_date": "2008-09-01", "graduation_date": "2012-07-01",
        }],
        "qualifications": [{
            "qualification_type": "accounting", "level": "junior", "method": "exam", "obtained_on": "2013-05-20",
            "certificate_number": "CJ2013000123",
        }],
        "credits": credits,
    }
