"""Kinds of application, their documents and their workflow steps, as data.

Each kind names the documents it needs (photographed by the customer or at the counter),
whether it asks for a capacity, whether it works on an existing account or makes a new
one, the kind of field job its survey and installation are, and its steps in order.
A step is a *decision* (taken by an office person at the desk) or a *job* (a work order
on a field worker's phone); each has the roles that hold it and a deadline in days from
when the application reached it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.enums import Role, WorkOrderKind


class ApplicationKind(StrEnum):
    NEW_RESIDENTIAL = "new_residential"  # 居民新装
    NEW_NON_RESIDENTIAL = "new_non_residential"  # 非居民新装
    CAPACITY_INCREASE = "capacity_increase"  # 增容
    CAPACITY_DECREASE = "capacity_decrease"  # 减容
    NAME_TRANSFER = "name_transfer"  # 过户
    CONTACT_CHANGE = "contact_change"  # 联系方式变更
    CLOSE_ACCOUNT = "close_account"  # 销户


class DocKind(StrEnum):
    ID_CARD = "id_card"  # 身份证
    PROPERTY_CERT = "property_cert"  # 房产证
    BUSINESS_LICENCE = "business_licence"  # 营业执照


class Step(StrEnum):
    ACCEPTANCE = "acceptance"  # 受理
    SITE_SURVEY = "site_survey"  # 现场勘查
    SCHEME = "scheme"  # 方案与审批
    INSTALLATION = "installation"  # 装表接电
    ARCHIVE = "archive"  # 资料归档


class StepMode(StrEnum):
    DECISION = "decision"  # an office person decides at the desk
    JOB = "job"  # a work order worked on a phone
    AUTO = "auto"  # done by the system as soon as it is reached (the archive)


@dataclass(frozen=True)
class StepSpec:
    step: Step
    mode: StepMode
    roles: frozenset[Role]  # who holds it
    days: int  # deadline, calendar days from when the application reached it


_DESK = frozenset({Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN})
_APPROVERS = frozenset({Role.MANAGER, Role.ADMIN})
ACCEPTANCE = StepSpec(Step.ACCEPTANCE, StepMode.DECISION, _DESK, 1)
SURVEY = StepSpec(Step.SITE_SURVEY, StepMode.JOB, frozenset({Role.CREW}), 3)
SCHEME = StepSpec(Step.SCHEME, StepMode.DECISION, _APPROVERS, 2)
INSTALLATION = StepSpec(Step.INSTALLATION, StepMode.JOB, frozenset({Role.METER_TECH}), 5)
ARCHIVE = StepSpec(Step.ARCHIVE, StepMode.AUTO, _DESK, 1)


@dataclass(frozen=True)
class KindSpec:
    kind: ApplicationKind
    job_kind: WorkOrderKind  # the kind of its survey and installation work orders
    documents: tuple[DocKind, ...]
    steps: tuple[StepSpec, ...]
    capacity: bool = False  # asks for a requested capacity (kW)
    new_account: bool = False  # installation makes the account (else: on an existing one)

    def spec(self, step: Step) -> StepSpec:
        for s in self.steps:
            if s.step == step:
                return s
        raise KeyError(step)

    def next_step(self, step: Step) -> Step | None:
        names = [s.step for s in self.steps]
        i = names.index(step)
        return names[i + 1] if i + 1 < len(names) else None


_FULL = (ACCEPTANCE, SURVEY, SCHEME, INSTALLATION, ARCHIVE)
K, D = ApplicationKind, DocKind
KINDS: dict[ApplicationKind, KindSpec] = {
    K.NEW_RESIDENTIAL: KindSpec(K.NEW_RESIDENTIAL, WorkOrderKind.NEW_CONNECTION,
                                (D.ID_CARD, D.PROPERTY_CERT), _FULL, capacity=True,
                                new_account=True),
    K.NEW_NON_RESIDENTIAL: KindSpec(K.NEW_NON_RESIDENTIAL, WorkOrderKind.NEW_CONNECTION,
                                    (D.ID_CARD, D.PROPERTY_CERT, D.BUSINESS_LICENCE), _FULL,
                                    capacity=True, new_account=True),
    K.CAPACITY_INCREASE: KindSpec(K.CAPACITY_INCREASE, WorkOrderKind.CAPACITY_CHANGE,
                                  (D.ID_CARD,), _FULL, capacity=True),
    K.CAPACITY_DECREASE: KindSpec(K.CAPACITY_DECREASE, WorkOrderKind.CAPACITY_CHANGE,
                                  (D.ID_CARD,), (ACCEPTANCE, SURVEY, SCHEME, ARCHIVE),
                                  capacity=True),
    K.NAME_TRANSFER: KindSpec(K.NAME_TRANSFER, WorkOrderKind.ACCOUNT_CHANGE,
                              (D.ID_CARD, D.PROPERTY_CERT), (ACCEPTANCE, SCHEME, ARCHIVE)),
    K.CONTACT_CHANGE: KindSpec(K.CONTACT_CHANGE, WorkOrderKind.ACCOUNT_CHANGE, (D.ID_CARD,),
                               (ACCEPTANCE, ARCHIVE)),
    K.CLOSE_ACCOUNT: KindSpec(K.CLOSE_ACCOUNT, WorkOrderKind.ACCOUNT_CHANGE, (D.ID_CARD,),
                              (ACCEPTANCE, SURVEY, ARCHIVE)),
}

#: Requested capacity bounds, kW (a household is a few kW; a small business up to 100s).
CAPACITY_MIN_KW = 1
CAPACITY_MAX_KW = {False: 50, True: 2000}  # residential, non-residential
#: Opening balance a new account may be given at approval (the first purchase), fen.
OPENING_MAX_FEN = 500_000


def spec_of(kind: ApplicationKind | str) -> KindSpec:
    return KINDS[ApplicationKind(kind)]
