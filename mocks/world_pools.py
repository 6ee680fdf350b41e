"""Static tables, Faker-built pools and check-digit helpers for ``mocks.world``.

Everything here is fixed (no seed): the world's seed only decides which entries it picks.
Faker is slow per call, so it runs once per process (``pools()``) with a fixed seed and the
world draws from the resulting tuples with its own seeded RNG.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from stdnum.cn import ric, uscc

__all__ = [
    "AS_OF",
    "BANKS",
    "COURTS",
    "REGIONS",
    "REGION_CUM_WEIGHTS",
    "USCC_ALPHABET",
    "VEHICLE_MODELS",
    "VIN_CHARS",
    "Court",
    "Pools",
    "Region",
    "VehicleModel",
    "case_number",
    "credit_code",
    "id_region_code",
    "pools",
    "resident_id",
    "vin_check_digit",
    "vin_year_code",
]

# The world's "today": fixed, so that ages, expiry dates and statuses never drift with the
# wall clock.
AS_OF = date(2026, 10, 31)


@dataclass(frozen=True, slots=True)
class Region:
    """A district: where people live, courts sit and registries register."""

    code: str  # GB/T 2260 district code, e.g. 320311
    province: str
    city: str  # equal to ``province`` for the municipalities
    district: str
    abbr: str  # 苏: court codes, plates, certificate numbers
    plate_letters: str
    price_sqm: int  # yuan per square metre of housing, rough 2024 figures
    weight: int

    @property
    def place(self) -> str:
        """Administrative prefix of an address: 江苏省徐州市泉山区 / 北京市朝阳区."""
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}"

    @property
    def city_short(self) -> str:
        """徐州 for 徐州市: company names and bank branches use it."""
        return self.city.removesuffix("市")

    @property
    def court(self) -> Court:
        """The basic people's court of the district, coded like 苏0311."""
        return Court(f"{self.place}人民法院", f"{self.abbr}{self.code[2:]}")

    @property
    def marriage_office(self) -> str:
        """The civil affairs marriage registration office of the district."""
        return f"{self.city}{self.district}民政局婚姻登记处"


@dataclass(frozen=True, slots=True)
class Court:
    """A court and its code, the part of a case number after the year."""

    name: str
    code: str


@dataclass(frozen=True, slots=True)
class VehicleModel:
    """A model, the WMI of its maker's Chinese plant and its price new (yuan)."""

    wmi: str
    name: str
    price: int
    commercial: bool = False


# The demo is set in Xuzhou (徐州), so Xuzhou districts carry most of the weight.
REGIONS: tuple[Region, ...] = (
    Region("320311", "江苏省", "徐州市", "泉山区", "苏", "C", 11_000, 12),
    Region("320302", "江苏省", "徐州市", "鼓楼区", "苏", "C", 10_500, 10),
    Region("320303", "江苏省", "徐州市", "云龙区", "苏", "C", 12_000, 10),
    Region("320312", "江苏省", "徐州市", "铜山区", "苏", "C", 8_500, 6),
    Region("320305", "江苏省", "徐州市", "贾汪区", "苏", "C", 6_500, 3),
    Region("320102", "江苏省", "南京市", "玄武区", "苏", "A", 38_000, 4),
    Region("320106", "江苏省", "南京市", "鼓楼区", "苏", "A", 42_000, 4),
    Region("320104", "江苏省", "南京市", "秦淮区", "苏", "A", 36_000, 4),
    Region("320505", "江苏省", "苏州市", "虎丘区", "苏", "E", 27_000, 3),
    Region("320506", "江苏省", "苏州市", "吴中区", "苏", "EU", 22_000, 3),
    Region("320508", "江苏省", "苏州市", "姑苏区", "苏", "E", 30_000, 3),
    Region("110101", "北京市", "北京市", "东城区", "京", "ABCEFGHJKLMNPQ", 95_000, 2),
    Region("110105", "北京市", "北京市", "朝阳区", "京", "ABCEFGHJKLMNPQ", 70_000, 2),
    Region("110108", "北京市", "北京市", "海淀区", "京", "ABCEFGHJKLMNPQ", 85_000, 2),
    Region("310101", "上海市", "上海市", "黄浦区", "沪", "ABCDEGHJKLMN", 100_000, 2),
    Region("310104", "上海市", "上海市", "徐汇区", "沪", "ABCDEGHJKLMN", 85_000, 2),
    Region("310115", "上海市", "上海市", "浦东新区", "沪", "ABCDEGHJKLMN", 65_000, 2),
    Region("330106", "浙江省", "杭州市", "西湖区", "浙", "A", 40_000, 2),
    Region("330102", "浙江省", "杭州市", "上城区", "浙", "A", 45_000, 2),
    Region("440106", "广东省", "广州市", "天河区", "粤", "A", 55_000, 2),
    Region("440104", "广东省", "广州市", "越秀区", "粤", "A", 48_000, 2),
    Region("440305", "广东省", "深圳市", "南山区", "粤", "B", 95_000, 2),
    Region("440304", "广东省", "深圳市", "福田区", "粤", "B", 85_000, 2),
    Region("370102", "山东省", "济南市", "历下区", "鲁", "A", 18_000, 3),
    Region("410105", "河南省", "郑州市", "金水区", "豫", "A", 15_000, 3),
    Region("420106", "湖北省", "武汉市", "武昌区", "鄂", "A", 20_000, 3),
    Region("510107", "四川省", "成都市", "武侯区", "川", "A", 19_000, 3),
    Region("340104", "安徽省", "合肥市", "蜀山区", "皖", "A", 20_000, 2),
)
REGION_CUM_WEIGHTS: tuple[int, ...] = tuple(accumulate(r.weight for r in REGIONS))


def _intermediate_courts() -> tuple[Court, ...]:
    # Intermediate courts (苏03) also enforce and seize; municipalities have numbered ones
    # (北京市第三中级人民法院) that we leave out rather than invent.
    seen: dict[str, Court] = {}
    for r in REGIONS:
        if r.city != r.province:
            code = f"{r.abbr}{r.code[2:4]}"
            seen.setdefault(code, Court(f"{r.province}{r.city}中级人民法院", code))
    return tuple(seen.values())


COURTS: tuple[Court, ...] = tuple(r.court for r in REGIONS) + _intermediate_courts()

BANKS: tuple[str, ...] = (
    "中国工商银行",
    "中国建设银行",
    "中国农业银行",
    "中国银行",
    "交通银行",
    "招商银行",
    "中国邮政储蓄银行",
    "兴业银行",
    "中信银行",
    "浦发银行",
)

VEHICLE_MODELS: tuple[VehicleModel, ...] = (
    VehicleModel("LSV", "大众朗逸", 120_000),
    VehicleModel("LSV", "大众帕萨特", 210_000),
    VehicleModel("LFV", "大众速腾", 150_000),
    VehicleModel("LFV", "大众迈腾", 220_000),
    VehicleModel("LFV", "奥迪A6L", 450_000),
    VehicleModel("LGB", "日产轩逸", 110_000),
    VehicleModel("LGB", "日产天籁", 190_000),
    VehicleModel("LSG", "别克英朗", 100_000),
    VehicleModel("LSG", "别克GL8", 300_000),
    VehicleModel("LHG", "本田雅阁", 180_000),
    VehicleModel("LVG", "丰田凯美瑞", 200_000),
    VehicleModel("LGX", "比亚迪秦PLUS", 120_000),
    VehicleModel("LGX", "比亚迪汉", 220_000),
    VehicleModel("LRW", "特斯拉Model 3", 250_000),
    VehicleModel("LRW", "特斯拉Model Y", 280_000),
    VehicleModel("LBV", "宝马5系", 480_000),
    VehicleModel("LE4", "奔驰E级", 500_000),
    VehicleModel("LVS", "福特福克斯", 100_000),
    VehicleModel("LB3", "吉利星瑞", 120_000),
    VehicleModel("LS5", "长安CS75", 110_000),
    VehicleModel("LVV", "奇瑞瑞虎8", 110_000),
    VehicleModel("LZZ", "重汽豪沃T7H牵引车", 420_000, commercial=True),
    VehicleModel("LGA", "东风天龙载货车", 350_000, commercial=True),
    VehicleModel("LJ1", "江淮帅铃轻卡", 90_000, commercial=True),
)

_STREETS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "淮海路",
    "和平路",
    "长江路",
    "黄河路",
    "湖滨路",
    "新华路",
    "民主路",
    "复兴路",
    "环城路",
    "光明路",
    "金山路",
    "学府路",
)
_ESTATE_HEADS = "锦绣 阳光 翠湖 金色 碧水 幸福 世纪 名都 绿地 御景 东方 滨江 紫金 天润 香山 枫林"
_ESTATE_TAILS = "花园 华府 家园 小区 新村 名苑 公馆 嘉园 雅苑 新城"
_TRADE_CHARS = "鸿鑫瑞华泰盛恒达隆源丰宏博信通嘉佳诚远润和兴德亿金利天安汇振"
_INDUSTRIES = (
    "科技",
    "商贸",
    "建设工程",
    "房地产开发",
    "物流",
    "餐饮管理",
    "机械制造",
    "建材",
    "信息技术",
    "农业发展",
    "服装",
    "汽车销售服务",
    "装饰工程",
    "文化传媒",
    "医药",
    "环保科技",
)


@dataclass(frozen=True, slots=True)
class Pools:
    """Names and address parts drawn by the world's seeded RNG."""

    male_names: tuple[str, ...]
    female_names: tuple[str, ...]
    streets: tuple[str, ...]
    estates: tuple[str, ...]
    trade_names: tuple[str, ...]
    industries: tuple[str, ...]


@functools.cache
def pools() -> Pools:
    """Build the pools once per process, from Faker with a fixed seed."""
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(20_240_601)
    males = tuple(f"{fake.last_name()}{fake.first_name_male()}" for _ in range(3000))
    females = tuple(f"{fake.last_name()}{fake.first_name_female()}" for _ in range(3000))
    streets = {fake.street_name() for _ in range(600)}
    # Faker's zh_CN streets include surname-only ones (苏路); keep the city-named kind.
    faked = sorted(s for s in streets if len(s) >= 3 and s[-1] in "路街")[:120]
    trades = {fake.company_prefix() for _ in range(2000)}
    # Only purely Chinese 2-4 character trade names read like a registered 字号.
    trade_names = sorted(
        t for t in trades if 2 <= len(t) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in t)
    )
    # Faker has only a few dozen; pairs of the characters firms like give the rest.
    trade_names += [a + b for a in _TRADE_CHARS for b in _TRADE_CHARS if a != b]
    estates = tuple(h + t for h in _ESTATE_HEADS.split() for t in _ESTATE_TAILS.split())
    return Pools(
        male_names=males,
        female_names=females,
        streets=_STREETS + tuple(faked),
        estates=estates,
        trade_names=tuple(trade_names),
        industries=_INDUSTRIES,
    )


@functools.cache
def _code_valid_in(code: str, year: int) -> bool:
    # python-stdnum knows when each district code was in use and rejects resident ids
    # whose code did not exist in the birth year (most districts were coded in 1983).
    body = f"{code}{year:04d}0101001"
    return bool(ric.is_valid(body + ric.calc_check_digit(body + "0")))


def id_region_code(region: Region, year: int) -> str:
    """The region code an id issued to someone born in ``year`` in ``region`` carries.

    People born before their district was coded carry the city's code (320300).
    """
    if _code_valid_in(region.code, year):
        return region.code
    return f"{region.code[:4]}00"


def resident_id(region_code: str, birth: date, sequence: int) -> str:
    """An 18-digit GB 11643 resident id; ``sequence`` odd for men, even for women."""
    body = f"{region_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    # stdnum's calc_check_digit expects the number with a check digit slot at the end.
    return body + str(ric.calc_check_digit(body + "0"))


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(region_code: str, serial: int) -> str:
    """A GB 32100 unified social credit code of an enterprise (登记管理部门 9, 类别 1).

    ``serial`` (< 31**6) picks the organisation code body MAxxxxxx, whose own GB 11714
    check character is computed too, as real codes carry one.
    """
    chars = []
    for _ in range(6):
        serial, digit = divmod(serial, len(USCC_ALPHABET))
        chars.append(USCC_ALPHABET[digit])
    org = "MA" + "".join(reversed(chars))
    total = sum(int(c, 36) * w for c, w in zip(org, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    org += "X" if check == 10 else "0" if check == 11 else str(check)
    body = f"91{region_code}{org}"
    return body + str(uscc.calc_check_digit(body))


VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q (ISO 3779)
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMNPR", (1, 2, 3, 4, 5, 7, 9), strict=True)),
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 / North American check digit (position 9) of a 17-character VIN."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def vin_year_code(year: int) -> str:
    """Model-year character (position 10): 2010 → A ... 2026 → T, skipping I O Q U Z 0."""
    letters = "ABCDEFGHJKLMNPRSTVWXY123456789"
    return letters[(year - 2010) % len(letters)]


def case_number(court: Court, year: int, serial: int) -> str:
    """An enforcement case number: （2024）苏0311执1234号 (full-width brackets)."""
    return f"（{year}）{court.code}执{serial}号"
