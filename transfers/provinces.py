"""Provincial-level divisions on the national platform (GB/T 2260 two-digit codes).

Transfers go to and come from the 30 other provinces and 新疆生产建设兵团 (66).
"""

from django.conf import settings

PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区", "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区", "65": "新疆维吾尔自治区",
    "66": "新疆生产建设兵团",
}


def home_province() -> str:
    """This portal's province on the platform (贵州 = 52)."""
    return settings.NATIONAL_PLATFORM_PROVINCE


def province_name(code: str) -> str:
    return PROVINCES.get(code, code)


def other_province_choices() -> list[tuple[str, str]]:
    """Every destination a person may transfer out to: all but this province."""
    home = home_province()
    return [(code, name) for code, name in PROVINCES.items() if code != home]
