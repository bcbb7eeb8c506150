"""The year's jobs started from the 全年工作 page in a real browser (Debian's chromium through Selenium): progress
while the job runs, then its files and its 【待核实】 list; a wrongly uploaded file withdrawn from the page."""

from __future__ import annotations

import os
import shutil

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_web_browser import CHROMEDRIVER, CHROMIUM, _shot, browser  # noqa: F401 - the browser fixture
from webkit import running

if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)) and os.environ.get("CI") != "true":
    pytest.skip("chromium and chromium-driver are not installed", allow_module_level=True)


def _finished(driver, command: str):
    jobs = driver.find_elements(By.CSS_SELECTOR, f"#result-{command} .job")
    return jobs[0] if jobs and jobs[0].get_attribute("data-state") in ("done", "failed") else False


def test_jobs_run_from_the_page_and_show_their_result(browser, tmp_path):
    with running(tmp_path / "srv") as srv:
        base = f"http://127.0.0.1:{srv.server.server_port}"
        wait = WebDriverWait(browser, 120)
        browser.get(base + "/jobs")
        assert browser.title.startswith("全年工作")

        browser.find_element(By.ID, "start-report").click()
        job = wait.until(lambda d: _finished(d, "report"))
        _shot(browser, "jobs-1-report")
        assert job.get_attribute("data-state") == "done", job.text
        assert "已生成" in job.find_element(By.CSS_SELECTOR, ".job-message").text
        notes = [li.text for li in job.find_elements(By.CSS_SELECTOR, ".job-notes li")]
        assert notes and all(n for n in notes)  # the sample inbox leaves 【待核实】 subjects
        links = [a.text for a in job.find_elements(By.CSS_SELECTOR, ".job-outputs a")]
        assert any("自查报告" in t for t in links) and any(t.startswith("说明报告/") for t in links)
        assert (srv.bench.out / "scores.json").is_file()

        browser.find_element(By.ID, "start-plan").click()
        job = wait.until(lambda d: _finished(d, "plan"))
        assert job.get_attribute("data-state") == "done" and "实施方案" in job.text

        # withdraw the superseded draft from the inbox list
        name = "工会-2026年文明单位创建台账（初稿）.xlsx"
        row = browser.find_element(By.CSS_SELECTOR, f'#inbox-files tr[data-file="{name}"]')
        row.find_element(By.CSS_SELECTOR, "button.withdraw").click()
        wait.until(lambda d: "已撤回" in d.find_element(By.ID, "withdraw-result").text)
        _shot(browser, "jobs-2-withdrawn")
        assert (srv.bench.inbox / "已撤回" / name).is_file() and not (srv.bench.inbox / name).exists()
