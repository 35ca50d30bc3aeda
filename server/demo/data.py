"""Fixed vocabulary of the demo data set: the county, its stations, names, places, texts.

Everything here is constant; the generator draws from it with a seeded ``random.Random``.
The county (湘阳县) is fictional, in the style of a county of Yueyang, Hunan.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.enums import AreaClass

COUNTY = "湘阳县"
#: The county centre; every coordinate lies within ±0.3° of it.


@dataclass(frozen=True)
class StationSpec:
    key: str  # s1, s2, s3: used in demo user names
    code: str
    name: str
    town: str
    lat: float
    lon: float
    areas: tuple[tuple[AreaClass, int], ...]
    crews: int
    techs: int
    agents: int
    note: str  # for the demo-login notes


STATIONS: tuple[StationSpec, ...] = (
    StationSpec("s1", "XY01", "城关供电所", "文星镇", 28.68, 112.88,
                ((AreaClass.TOWN, 8), (AreaClass.RURAL, 4)), crews=3, techs=2, agents=2,
                note="county town"),
    StationSpec("s2", "XY02", "白鹭湖供电所", "白鹭湖镇", 28.80, 112.74,
                ((AreaClass.RURAL, 8), (AreaClass.REMOTE, 2)), crews=2, techs=1, agents=2,
                note="lakeside villages"),
    StationSpec("s3", "XY03", "青山供电所", "青山镇", 28.44, 113.10,
                ((AreaClass.RURAL, 3), (AreaClass.REMOTE, 5)), crews=2, techs=1, agents=1,
                note="mountain villages"),
)

#: Rated capacities (kVA) by area class, all from {100, 200, 315, 400, 630}.
KVA_BY_CLASS: dict[AreaClass, tuple[int, ...]] = {
    AreaClass.TOWN: (315, 400, 400, 630, 630),
    AreaClass.RURAL: (100, 200, 200, 315),
    AreaClass.REMOTE: (100, 100, 200),
}
#: Relative number of households per kVA, by class (town areas are denser).
DENSITY: dict[AreaClass, float] = {AreaClass.TOWN: 1.3, AreaClass.RURAL: 1.0,
                                   AreaClass.REMOTE: 0.8}

COMMUNITIES = ("东风", "解放", "建设", "文庙", "新华", "沿江", "城南", "城北", "和平", "学府",
               "洋沙湖", "凤凰台", "迎春", "西湖")
STREETS = ("东风路", "解放西路", "建设路", "文星大道", "湘江路", "沿江大道", "人民路", "朝阳路",
           "新华街", "学府路", "青年路", "城南路")
VILLAGES = ("荷花", "杨柳", "新河", "白石", "双江", "竹山", "黄泥", "长乐", "石门", "枫树",
            "桃源", "樟树", "松柏", "金龙", "凤形", "龙井", "青石", "茶园", "花桥", "清水",
            "大塘", "塘湾", "高岭", "石峰", "牛角", "坪上", "湖滨", "芦苇", "莲塘", "新屋",
            "马鞍", "狮子", "白鹤", "鹤龙", "三合", "五里", "七星", "九龙", "观音", "罗家")

#: Common surnames, Hunan flavoured, with rough weights.
SURNAMES: tuple[tuple[str, int], ...] = (
    ("李", 8), ("王", 7), ("张", 7), ("刘", 7), ("陈", 6), ("杨", 4), ("黄", 4), ("周", 5),
    ("吴", 3), ("赵", 3), ("彭", 4), ("谭", 4), ("邓", 3), ("曾", 3), ("肖", 3), ("唐", 3),
    ("蒋", 3), ("袁", 2), ("贺", 2), ("易", 2), ("廖", 2), ("龙", 2), ("胡", 3), ("朱", 2),
    ("罗", 3), ("许", 2), ("何", 2), ("郭", 2), ("姚", 1), ("欧阳", 1), ("毛", 1), ("汤", 1),
    ("文", 1), ("夏", 1), ("熊", 1), ("雷", 1),
)
GIVEN_MALE = ("伟", "强", "军", "勇", "杰", "涛", "斌", "明", "超", "平", "辉", "刚", "建国",
              "建军", "志强", "国庆", "海波", "红兵", "卫东", "德胜", "春生", "世杰", "文华",
              "立新", "长青", "家豪", "子轩", "浩然", "宇航", "俊杰", "振华", "国平", "铁牛")
GIVEN_FEMALE = ("芳", "丽", "敏", "静", "艳", "娟", "霞", "燕", "玲", "红", "秀英", "桂英",
                "玉兰", "秀兰", "春梅", "美华", "丽娟", "海燕", "晓红", "建英", "冬梅", "雅婷",
                "欣怡", "梓涵", "诗琪", "淑芬", "凤英", "小兰")

PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                  "152", "153", "155", "156", "157", "158", "159", "173", "177", "180", "182",
                  "183", "185", "186", "187", "188", "189", "199")

#: Birth-place codes for ID cards (county codes of the Yueyang area and neighbours).
ID_REGIONS = ("430624", "430624", "430624", "430626", "430621", "430681", "430602", "430111")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_check(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of a mainland resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_card(region: str, birth: str, seq: int) -> str:
    """A well-formed (fake) 18-character ID number; ``seq`` odd for men, even for women."""
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + id_card_check(first17)


CARE_REASONS = (
    "独居老人（80岁以上），停电须人工确认",
    "家中有长期使用制氧机的病人",
    "家中有居家腹膜透析患者",
    "重度残疾（肢体一级），行动不便",
    "低保户，独居老人",
    "空巢老人，子女在外务工",
    "家中有卧床病人，需用电取暖",
)
NON_RESIDENTIAL = ("村民委员会", "农机专业合作社", "便民超市", "小学", "卫生室", "碾米厂",
                   "水产养殖场", "农家乐", "五金店", "茶叶加工厂", "竹木加工厂", "加油站")

METER_MODELS_1P = ("DDZY1710-Z", "DDZY719C-Z", "DDZY285-Z")
METER_MODEL_3P = "DTZY341-Z"

# -- work-order texts ---------------------------------------------------------------------
FAULT_REPORTS = (
    "家里突然停电了，邻居家有电", "整栋楼都停电了", "表箱冒烟，有焦糊味", "电压不稳，灯一闪一闪的",
    "进户线被大风刮断了，垂在路边", "电表显示有余额但是不通电", "空调一开就跳闸",
    "村里一片都没电了", "电线杆歪了，线路很低", "雷雨后家里没电", "插座冒火花后全屋断电",
    "充值后还是没有来电",
)
FAULT_MONITORING = ("台区总表失压告警，疑似低压出线故障", "配变低压侧A相电流为零，疑似熔断器熔断",
                    "台区多户同时失电（采集终端告警）")
FAULT_CAUSES = (
    ("户内漏电保护器跳闸", "查明户内热水器漏电，断开后恢复送电，已建议客户维修热水器"),
    ("进户线老化断线", "更换进户线15米，恢复供电"),
    ("表后空开损坏", "更换表后空气开关（63A），恢复供电"),
    ("低压线路被树枝刮断", "清理树障，修复低压线路，恢复供电"),
    ("熔断器熔断", "更换配变低压侧熔断器，恢复全台区供电"),
    ("雷击损坏", "更换雷击损坏的计量箱开关，恢复供电"),
    ("接头烧损", "处理低压接头烧损，重新压接，恢复供电"),
    ("欠费停电", "客户余额不足已远程停电，指导客户充值后远程复电"),
    ("电压偏低", "调整配变分接头，电压恢复正常"),
)
SWAP_REPORTS = ("电表液晶屏黑屏，无法读数", "电表连续三天采集失败，疑似故障",
                "电表计量异常，客户反映电费偏高", "电表到期轮换", "电表外壳破损，需更换",
                "预付费电表无法识别电卡")
SWAP_RESOLUTIONS = ("已更换电表，旧表底数和余额已结转，新卡已发放",
                    "完成换表，加封两处，客户签字确认")
NEW_CONNECTION = ("新建住房申请低压居民新装用电", "门面房申请新装用电，容量10kW",
                  "农业灌溉用电申请新装", "新建养殖场申请新装用电")
CAPACITY_CHANGE = ("家庭用电增加，申请由4kW增容至8kW", "店铺新增冷柜，申请增容",
                   "加工厂扩产，申请增容至50kVA")
ACCOUNT_CHANGE = ("房屋过户，申请更名", "申请变更联系电话", "父亲过世，户名变更为子女",
                  "申请将一户一表分户")
INSPECTIONS = ("台区线损异常，开展用电检查", "疑似绕越计量用电，现场核查",
               "夏季高峰前安全用电检查", "客户用电量突增，现场核实")
CARE_VISITS = ("用电关怀走访：检查室内线路安全", "关怀走访：讲解余额提醒和紧急报修方式",
               "高温天气关怀走访，检查空调线路", "冬季取暖用电安全走访")
BUSINESS_RESOLUTIONS = ("已现场勘查并办理完毕，资料已归档", "业务已办结，客户签字确认",
                        "已完成检查，未发现异常", "已上门走访，线路安全，留下联系卡")
NOTES_ASSIGNEE = ("已联系客户，正在赶往现场", "现场排查中，预计一小时内恢复",
                  "需要停电作业，已通知周边用户", "材料不足，回所领取后继续")
NOTES_OFFICE = ("客户再次来电催促，请尽快处理", "已电话回访客户", "请注意安全，雨天作业")
HELP_REASONS = ("需要带电作业车支援", "线路故障范围较大，需要增派人手", "需要登高车")
DECLINE_REASONS = ("正在处理另一起抢修，无法及时到达", "车辆故障", "休假，已交接")
REASSIGN_REASONS = ("原处理人请假，改派", "就近调派，缩短到达时间")
CANCEL_REASONS = ("客户来电说已自行恢复", "重复报修，已合并到另一工单", "客户取消申请",
                  "经核实为客户内部原因，已电话指导")
CUSTOMER_CANCEL = ("已经来电了，不用来了", "重复提交了")
REOPEN_REASONS = ("处理后第二天又停电了", "问题没有彻底解决")
COMMENTS_GOOD = ("师傅来得很快，服务很好", "处理及时，态度好", "非常满意，谢谢",
                 "半夜还来抢修，辛苦了")
COMMENTS_BAD = ("等了很久才来", "修好后又停了一次", "电话打不通")
PHOTO_CAPTIONS = ("故障点", "处理后", "表箱", "现场")
