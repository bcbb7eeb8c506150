"""Word outputs (temporary stub until the templates land)."""


def write_self_report(result, path):
    pass
