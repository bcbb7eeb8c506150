"""设置: the yearly fields of unit.yaml, validated by the same loader as the command line, comments kept."""

from __future__ import annotations

from flask import g, render_template, request

from pipeline.errors import ConfigError
from pipeline.unit_settings import read_settings, update_settings


def page(message: str | None = None, error: str | None = None, values=None, status: int = 200):
    bench = g.bench
    values = values or read_settings(bench.config_dir)
    path = (bench.config_dir or bench.config.dir) / "unit.yaml"
    from pipeline.profile import available_profiles
    current = (bench.config_dir or bench.config.dir).resolve()
    return render_template("settings.html", s=values, path=path, message=message, error=error,
                           profiles=available_profiles(), current=current), status


def choose_profile():
    """The unit's profile, chosen once: remembered in .wenming-profile (as `make use` does) and used from now on."""
    from pipeline.catalog import load_config
    from pipeline.profile import BUNDLED_DIR, forget_profile, remember_profile
    bench = g.bench
    choice = request.form.get("profile", "")
    try:
        folder = dict(available_profiles_by_key()).get(choice)
        if folder is None:
            raise ConfigError(f"没有“{choice}”这个单位配置")
        config = load_config(folder)  # a profile with mistakes is not switched to
        if folder.resolve() == BUNDLED_DIR.resolve():
            forget_profile()
        else:
            remember_profile(folder)
    except ConfigError as exc:
        return page(error=str(exc), status=400)
    bench.config_dir = folder
    bench.reload_config()
    return page(message=f"已改用单位配置：{config.unit}（{folder}），make 和启动器也将使用它")


def available_profiles_by_key():
    from pipeline.profile import available_profiles
    return [(str(p), p) for _, p in available_profiles()]


def save():
    """Save what the form carries: a field it leaves out (another form, a script) stays as it is in unit.yaml."""
    bench = g.bench
    form = request.form
    emails = {name: form[f"email-{name}"] for name in bench.config.department_names if f"email-{name}" in form}
    try:
        update_settings(bench.config_dir or bench.config.dir, form.get("year"), form.get("deadline"),
                        form.get("report_date"), emails)
    except ConfigError as exc:
        from pipeline.addresses import visible
        from pipeline.unit_settings import YearlySettings
        now = read_settings(bench.config_dir)  # typed text shown back as typed, control characters as \x1b
        typed = YearlySettings(visible(form.get("year", str(now.year))), visible(form.get("deadline", now.deadline)),
                               visible(form.get("report_date", now.report_date)),
                               {**now.emails, **{k: visible(v) for k, v in emails.items()}})
        return page(error=str(exc), values=typed, status=400)
    bench.reload_config()
    return page(message="已保存到 unit.yaml（原有注释保留）")
