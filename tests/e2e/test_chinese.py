"""The same screens on phones set to Chinese: the app follows the device locale, shows
the rules' messages in Chinese, and can be switched to English in settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone, look
from tests.e2e.world import dispatched_job, jpeg
from tests.factories import PASSWORD

ZH_LOGIN = ("用户名", "密码", "登录")
GPS = {"latitude": 27.8, "longitude": 112.9, "accuracy": 8}


def test_crew_and_technician_screens_in_chinese(api: ApiServer, app_url: str, browser: Any,
                                                tmp_path: Path) -> None:
    fault = dispatched_job(api, kind="fault_repair", assignee="crew1b",
                           description="变压器跳闸，整条街停电")
    swap = dispatched_job(api, kind="meter_swap", assignee="tech1",
                          description="电表黑屏，需更换", account_name="Customer acc2")
    crew = Phone(browser, app_url, "zh-crew", locale="zh-CN", geolocation=GPS)
    crew.page.set_viewport_size({"width": 390, "height": 844})
    try:
        crew.open()
        crew.see("电力一站通")
        crew.shot("login")
        crew.sign_in("crew1b", PASSWORD, labels=ZH_LOGIN)
        crew.see("我的工单")
        crew.see(fault["code"])
        crew.see("故障抢修")
        crew.see(re.compile("到场剩余"))
        look(crew, "zh-crew-jobs")
        crew.page.get_by_role("button", name=re.compile(fault["code"])).first.click()
        crew.see("变压器跳闸，整条街停电")
        crew.see("联系电话")  # a number: 联系电话, a tap-to-call link
        crew.see(re.compile(r"拨打 \d+"))
        crew.tap("地图", exact=True, settle=1.5)
        crew.see("未设置地图瓦片服务")
        look(crew, "zh-crew-job-map")
        crew.tap("接单", exact=True)
        crew.see("已接单")
        crew.tap("定位并到达", settle=1.0)
        crew.see("已到达现场")
        crew.see("我")  # the timeline says who did each step
        look(crew, "zh-crew-job-detail")
        crew.tap("拍照", exact=True, settle=1.0)
        look(crew, "zh-crew-camera")  # the shutter on screen, under the button
        crew.tap("取消", exact=True)
        crew.tap("完成处理", exact=True)
        crew.tap("确认处理完成", exact=True)
        crew.see("请填写处理情况")  # the rule's message, in Chinese
        crew.shot("resolve-needs-text")
        crew.tab("同步")
        crew.see("同步状态")
        crew.see("上次成功同步")
        crew.shot("sync")
        crew.tab("设置")
        crew.see("跟随系统")
        crew.shot("settings")
        crew.page.get_by_role("radio", name="English").click()
        crew.see("Follow device")
        crew.see("My jobs")
        crew.page.get_by_role("radio", name="简体中文").click()
        crew.see("我的工单")
    finally:
        crew.close()

    tech = Phone(browser, app_url, "zh-tech", locale="zh-CN")
    tech.page.set_viewport_size({"width": 390, "height": 844})
    try:
        tech.open()
        tech.sign_in("tech1", PASSWORD, labels=ZH_LOGIN)
        # the first download after signing in, in the page's Python: a loaded 2-core run
        # once took longer than the click's own 15 s
        tech.see(swap["code"], timeout=30_000)
        tech.page.get_by_role("button", name=re.compile(swap["code"])).first.click()
        tech.tap("接单", exact=True)
        tech.tap("定位并到达", settle=1.0)
        tech.tap("手动到达", exact=True)
        tech.tap("录入换表", exact=True, settle=1.0)
        tech.fill("旧表表号", "MTR-M1-9999")  # not the job's meter
        tech.fill("搜索库存表号", "STOCK3")  # in stock at another station: not on this phone
        tech.see("本站库存中没有匹配的表")
        look(tech, "zh-swap-stock-search")
        tech.tap("库存中找不到？手动输入表号", exact=True)
        tech.fill("新表表号", "NEW-STOCK3")
        tech.see("不在本机表库中")
        photo = jpeg(tmp_path / "face.jpg")
        both_missing = re.compile(r"未拍摄[\s\S]*未拍摄")  # 未拍摄: no photo yet
        tech.see(both_missing)
        with tech.page.expect_file_chooser() as chooser:
            tech.page.get_by_role("button", name="从相册选择").nth(0).click()
        chooser.value.set_files(str(photo))
        # the old meter's photo shown before submitting (as a user would see it): a tap
        # while the form redrew for it was once lost, and no message came
        tech.gone(both_missing, timeout=10_000)
        tech.tap("提交换表记录", exact=True)
        tech.see("旧表表号 MTR-M1-9999 与工单上的表号 MTR-M2-0001 不一致")
        tech.see("须拍摄新旧电表表面照片")
        tech.see("请输入数字")
        look(tech, "zh-swap-errors")
    finally:
        tech.close()


def test_customer_screens_in_chinese(api: ApiServer, app_url: str, browser: Any) -> None:
    phone = Phone(browser, app_url, "zh-customer", locale="zh-CN")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.open()
        phone.sign_in("customer2", PASSWORD, labels=ZH_LOGIN)
        phone.see("我的户号")
        phone.see("余额")
        phone.see("近 30 天日用电量（千瓦时）")
        phone.shot("accounts")
        phone.tap("我要报修", exact=True, settle=1.0)
        phone.see("故障描述")
        phone.tap("提交报修", exact=True)
        phone.see("请描述故障情况")
        phone.fill("故障描述", "电表冒烟")
        phone.gone("请描述故障情况")  # the hint clears once there is text
        look(phone, "zh-report-form")
        phone.tab("我的户号")
        phone.tap("月度账单", exact=True, settle=1.0)
        phone.see("期初余额")
        look(phone, "zh-bill")
        phone.tab("报修")
        phone.see('heading "我的报修"')
        phone.shot("my-reports")
    finally:
        phone.close()
