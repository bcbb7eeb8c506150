"""Fatal errors: the few conditions that stop a command (bad input data never raises)."""


class PipelineError(Exception):
    """A fatal condition, carrying one Chinese line for the user."""


class ConfigError(PipelineError):
    """The configuration folder cannot be loaded."""


class InboxError(PipelineError):
    """The inbox folder is missing or unreadable."""


class MailError(PipelineError):
    """The mailbox cannot be reached or used."""


class OutputError(PipelineError):
    """The output folder cannot be used (inside the inbox, a file, or busy with another run)."""


_OS_REASONS = {
    "ENOSPC": "磁盘空间不足，请腾出空间后重新运行",
    "EDQUOT": "磁盘配额已用完，请腾出空间后重新运行",
    "EFBIG": "文件超过了系统允许的大小，请腾出空间或换一个文件夹后重新运行",
    "EACCES": "没有权限，请检查文件夹权限，或关闭正在打开该文件的 Excel/WPS 后重新运行",
    "EPERM": "没有权限，请检查文件夹权限，或关闭正在打开该文件的 Excel/WPS 后重新运行",
    "EROFS": "所在磁盘是只读的，请换一个文件夹",
    "ENOENT": "找不到该文件或文件夹",
    "ENOTDIR": "路径中有一部分是文件而不是文件夹，请换一个文件夹名",
    "EISDIR": "这里需要文件，但它是一个文件夹",
    "EEXIST": "同名文件已存在",
    "ENAMETOOLONG": "文件名或路径太长，请换一个短些的文件夹",
    "EMFILE": "同时打开的文件太多，请关闭其他程序后重新运行",
    "EIO": "磁盘读写出错，请检查磁盘或换一个文件夹",
    "EBUSY": "文件正被其他程序占用，请关闭后重新运行",
}


def os_error_message(exc: OSError, tail: str = "", place: object = None) -> str:
    """One Chinese line for an operating-system error (full disk, no permission, …), naming the file."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    reason = _OS_REASONS.get(name) or f"系统错误（{exc.strerror or exc.__class__.__name__}）"
    where = exc.filename if exc.filename is not None else (place if place is not None else "")
    if exc.filename2 is not None:
        where = f"{where} → {exc.filename2}"
    if where:
        return f"读写 {where} 时出错：{reason}{tail}"
    return f"读写文件时出错：{reason}{tail}"
