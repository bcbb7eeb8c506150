"""The year's jobs started from the 全年工作 page in a real browser (Debian's chromium through Selenium): progress
while the job runs, then its files and its 【待核实】 list; a wrongly uploaded file withdrawn from the page."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_web_browser import _shot, browser  # noqa: F401 - the browser fixture
from webkit import running

pytestmark = pytest.mark.needs("chromium", "chromedriver")  # tests/conftest.py: skipped with the reason, failed under CI


def _finished(driver, command: str):
    """The job's box once it has ended (it replaces itself while it polls, so a found box may go stale)."""
    try:
        jobs = driver.find_elements(By.CSS_SELECTOR, f"#result-{command} .job")
        return jobs[0] if jobs and jobs[0].get_attribute("data-state") in ("done", "failed") else False
    except StaleElementReferenceException:
        return False


def test_jobs_run_from_the_page_and_show_their_result(browser, tmp_path):
    with running(tmp_path / "srv") as srv:
        srv.bench.templates_dir = tmp_path / "templates"  # the templates job writes here, not into the project
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

        for command, says in (("templates", "部门台账模板"), ("plan", "实施方案"), ("halfyear", "已生成"),
                              ("bulletin", "第 1 期"), ("archive", "分类档案"), ("notify", "未发送"),
                              ("export", "数据包")):
            browser.find_element(By.ID, f"start-{command}").click()
            job = wait.until(lambda d: _finished(d, command))
            assert job.get_attribute("data-state") == "done" and says in job.text, (command, job.text)
        _shot(browser, "jobs-1b-all")
        assert len(list(srv.bench.out.glob("*.zip"))) == 2  # the 分类档案 and the unit package

        # withdraw the superseded draft from the inbox list
        name = "工会-2026年文明单位创建台账（初稿）.xlsx"
        row = browser.find_element(By.CSS_SELECTOR, f'#inbox-files tr[data-file="{name}"]')
        row.find_element(By.CSS_SELECTOR, "button.withdraw").click()
        wait.until(lambda d: "已撤回" in d.find_element(By.ID, "withdraw-result").text)
        _shot(browser, "jobs-2-withdrawn")
        assert (srv.bench.inbox / "已撤回" / name).is_file() and not (srv.bench.inbox / name).exists()
