"""The 工作台 driven in a real browser: Debian's chromium through Selenium, headless, bounded in time."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import time
from pathlib import Path

import pytest
from docx import Document
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import needs
from webkit import EXAMPLES, running

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = os.environ.get("WEB_SCREENSHOTS")  # a folder: keep 1366x768 screenshots of each step for a look


@pytest.fixture
def browser(tmp_path):
    needs("chromium", "chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768",
                "--lang=zh-CN", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def _state(driver, dept: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'tr[data-department="{dept}"]').get_attribute("data-state")


def test_coordinator_day_in_the_browser(browser, tmp_path):
    with running(tmp_path / "srv") as srv:
        base = f"http://127.0.0.1:{srv.server.server_port}"
        wait = WebDriverWait(browser, 60)
        # the board
        browser.get(base + "/")
        assert browser.title.startswith("报送情况")
        assert _state(browser, "团委") == "未报送" and _state(browser, "工会") == "已报送"
        _shot(browser, "1-board")

        # upload two files through the file input: a good workbook and a corrupt one
        uploads = tmp_path / "to-upload"
        uploads.mkdir()
        good = shutil.copy(EXAMPLES / "团委-2026年文明单位创建台账.xlsx", uploads / "团委-2026年文明单位创建台账.xlsx")
        bad = uploads / "反协办-台账.xlsx"
        bad.write_bytes(b"PK\x03\x04 broken")
        browser.find_element(By.ID, "files").send_keys(f"{good}\n{bad}")
        wait.until(EC.text_to_be_present_in_element((By.ID, "upload-result"), "反协办-台账.xlsx"))
        wait.until(lambda d: _state(d, "团委") == "已报送")  # the board changed without a reload
        assert _state(browser, "反协办") == "文件无法读取"
        result = browser.find_element(By.ID, "upload-result").text
        assert "团委" in result and "已采用" in result and "文件无法打开" in result
        _shot(browser, "2-uploaded")

        # a file dropped on the drop zone is uploaded too (a drag event as the browser makes it)
        browser.execute_script("""
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array([80, 75, 3, 4, 1, 2])], "妇联-拖入的台账.xlsx"));
            document.getElementById("dropzone").dispatchEvent(
                new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));""")
        wait.until(EC.text_to_be_present_in_element((By.ID, "upload-result"), "妇联-拖入的台账.xlsx"))
        wait.until(lambda d: _state(d, "妇联") == "文件无法读取")
        assert any("妇联-拖入的台账.xlsx" in p.name for p in srv.bench.inbox.iterdir())

        # the department page: its issues, then 退回 with a reason
        browser.get(base + "/departments/工会")
        assert "已报送" in browser.find_element(By.ID, "dept-state").text
        assert browser.find_element(By.ID, "issues").text  # 工会's sample workbook has issues
        _shot(browser, "3-department")
        browser.find_element(By.ID, "reason").send_keys("人员名单第5行缺少姓名，请补填后重新报送")
        browser.find_element(By.ID, "btn-return").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "退回"))

        # documents: generate (no PDF, to keep the test short), watch it finish, download the 自查报告
        browser.get(base + "/documents")
        box = browser.find_element(By.ID, "want-pdf")
        if box.is_selected():
            box.click()
        browser.find_element(By.ID, "generate").click()
        WebDriverWait(browser, 180).until(EC.presence_of_element_located((By.ID, "done")))
        _shot(browser, "4-documents")
        link = browser.find_element(By.XPATH, "//tr[td[contains(., '自查报告')]]//a")
        link.click()
        deadline = time.time() + 60
        while time.time() < deadline:
            found = [p for p in browser.downloads.glob("*自查报告*.docx")]
            if found and found[0].stat().st_size > 0:
                break
            time.sleep(0.3)
        else:
            pytest.fail("自查报告 was not downloaded")
        text = "\n".join(p.text for p in Document(str(found[0])).paragraphs)
        assert "天津市科学技术协会" in text and "自查报告" in text

        # mail: the dry-run preview carries the reason into 工会's receipt
        browser.get(base + "/mail")
        browser.find_element(By.ID, "preview").click()
        notice = wait.until(EC.presence_of_element_located((By.ID, "notice-工会")))
        notice.find_element(By.TAG_NAME, "summary").click()
        assert "人员名单第5行缺少姓名，请补填后重新报送" in notice.text
        _shot(browser, "5-mail")
        eml = srv.bench.out / "outbox" / "工会-回执.eml"
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert "经审核退回，原因：人员名单第5行缺少姓名，请补填后重新报送" in msg.get_body(("plain",)).get_content()
        browser.get(base + "/standards")
        _shot(browser, "6-standards")
        browser.get(base + "/settings")
        _shot(browser, "7-settings")


def test_board_late_by_date_upload_on_choose_and_withdraw_in_the_browser(browser, tmp_path):
    """逾期 against the 填报日期 (files modified after the deadline change nothing), a file uploads as soon as it
    is chosen (no button to press), an unreadable file without a department is listed and withdrawn from the
    page; the board at desktop and at phone width (390 px)."""
    import datetime as dt

    import yaml
    from webkit import ROOT  # noqa: F401 - the example files
    names = ["办公室-2026年文明单位创建台账.xlsx", "普及部-2026年文明单位创建台账.xlsx",
             "妇联-2026年文明单位创建台账.xlsx", "调宣部-2026年文明单位创建台账.xlsx"]
    with running(tmp_path / "srv", files=names) as srv:
        path = srv.bench.config_dir / "unit.yaml"
        unit = yaml.safe_load(path.read_text(encoding="utf-8"))
        unit["deadline"] = dt.date(2026, 11, 12)
        path.write_text(yaml.safe_dump(unit, allow_unicode=True), encoding="utf-8")
        srv.bench.reload_config()
        late_mtime = dt.datetime(2026, 12, 1).timestamp()
        for p in srv.bench.inbox.iterdir():
            os.utime(p, (late_mtime, late_mtime))
        base = f"http://127.0.0.1:{srv.server.server_port}"
        wait = WebDriverWait(browser, 60)
        browser.get(base + "/")

        def late(dept: str) -> bool:
            row = browser.find_element(By.CSS_SELECTOR, f'tr[data-department="{dept}"]')
            return row.get_attribute("data-late") == "yes" and "逾期" in row.text

        # 填报日期: 办公室 11-13, 普及部 11-14 (late); 妇联 11-11, 调宣部 11-12 (on time: the deadline day counts)
        assert late("办公室") and late("普及部") and not late("妇联") and not late("调宣部")
        assert "2026年11月14日" in browser.find_element(By.CSS_SELECTOR, 'tr[data-department="普及部"]').text

        # upload on choose: no button in the form to press
        form = browser.find_element(By.ID, "upload-form")
        assert not [b for b in form.find_elements(By.TAG_NAME, "button") if b.is_displayed()]
        uploads = tmp_path / "to-upload"
        uploads.mkdir()
        nameless = uploads / "随手存的表.xlsx"
        nameless.write_bytes(b"PK\x03\x04 broken")
        good = shutil.copy(EXAMPLES / "团委-2026年文明单位创建台账.xlsx", uploads / "团委-2026年文明单位创建台账.xlsx")
        browser.find_element(By.ID, "files").send_keys(f"{good}\n{nameless}")
        wait.until(EC.text_to_be_present_in_element((By.ID, "upload-result"), "随手存的表.xlsx"))
        wait.until(lambda d: _state(d, "团委") == "已报送")  # the board refreshed itself
        assert late("团委")  # 团委's 填报日期 is 11-13
        card = wait.until(EC.presence_of_element_located((By.ID, "problem-files")))
        assert "随手存的表.xlsx" in card.text and "部门不明" in card.text
        assert browser.find_element(By.CSS_SELECTOR, "#problem-count b").text == "1"
        _shot(browser, "board-desktop")
        if SHOTS:
            browser.set_window_size(390, 844)
            time.sleep(0.5)
            _shot(browser, "board-phone")
            for n, target in enumerate(("problem-files", "departments", "metrics"), 2):
                browser.execute_script(f"document.getElementById('{target}').scrollIntoView()")
                _shot(browser, f"board-phone-{n}")
            browser.get(base + "/mail")
            _shot(browser, "mail-phone")
            browser.get(base + "/")
            browser.set_window_size(1366, 768)
        # at 390 px no page is wider than the screen
        browser.set_window_size(390, 844)
        for page in ("/mail", "/settings", "/documents", "/jobs", "/history", "/standards", "/"):
            browser.get(base + page)
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, (page, width)
        browser.set_window_size(1366, 768)

        # withdraw it from the page
        row = browser.find_element(By.CSS_SELECTOR, '#problem-files tr[data-file*="随手存的表"]')
        saved = row.get_attribute("data-file")
        row.find_element(By.TAG_NAME, "button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "board-message"), "已撤回"))
        wait.until(lambda d: not d.find_elements(By.ID, "problem-files"))
        assert browser.find_element(By.CSS_SELECTOR, "#problem-count b").text == "0"
        assert not (srv.bench.inbox / saved).exists() and (srv.bench.inbox / "已撤回" / saved).is_file()

        # a request that cannot reach the 工作台 (its window closed) is told in place, not silently dropped
        srv.server.shutdown()
        srv.server.socket.close()
        browser.execute_script("htmx.ajax('POST', '/inbox/withdraw', {target: '#board-message', swap: 'innerHTML'})")
        wait.until(EC.text_to_be_present_in_element((By.ID, "board-message"), "无法连接工作台"))


def test_mailing_every_department_from_the_year_page_asks_first(browser, tmp_path):
    """全年工作's 发送回执和催报 without “只生成不发送”: a confirmation first; dismissed, nothing is started."""
    from selenium.webdriver.common.alert import Alert
    with running(tmp_path / "srv", files=["工会-2026年文明单位创建台账.xlsx"]) as srv:
        base = f"http://127.0.0.1:{srv.server.server_port}"
        browser.get(base + "/jobs")
        card = browser.find_element(By.ID, "card-notify")
        box = card.find_element(By.NAME, "dry_run")
        if box.is_selected():
            box.click()
        browser.find_element(By.ID, "start-notify").click()
        WebDriverWait(browser, 10).until(EC.alert_is_present())
        alert = Alert(browser)
        assert "发送" in alert.text
        alert.dismiss()
        time.sleep(1)
        assert browser.find_element(By.ID, "result-notify").text.strip() == ""
        assert srv.bench.runner.running(srv.bench.out) is None
        browser.find_element(By.ID, "start-notify").click()
        WebDriverWait(browser, 10).until(EC.alert_is_present())
        Alert(browser).accept()  # no scores.json yet: the job's own answer, in place
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "result-notify").text.strip())
        # the dry run needs no confirmation
        box.click()
        browser.find_element(By.ID, "start-notify").click()
        time.sleep(1)
        assert not EC.alert_is_present()(browser)
